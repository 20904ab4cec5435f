/**
 * When a scheduled scrub or dedupe is due. Computed only from stored times (the interval, when it
 * was set, when the last run of that kind finished), so a restarted server picks up where it was.
 */
import type { PoolOperation } from "@prophetstor/dpl-provider/wire";
import type { MaintenanceIntervals } from "./commands";
import type { MaintenanceScheduleEntry, MetadataStore } from "./metadata-store";

/**
 * One interval after the later of the last run's finish and the moment the interval was set: a
 * changed interval starts counting afresh, and a run (scheduled or on demand, succeeded or
 * failed) pushes the next one a full interval on.
 */
export function nextRunAt(entry: MaintenanceScheduleEntry, lastFinished: number | null): number {
  const since = lastFinished === null ? entry.setAt : Math.max(entry.setAt, lastFinished);
  return since + entry.intervalSeconds * 1000;
}

/**
 * The entry to store for a requested interval: unchanged (keeping its set time) when the interval
 * is the same, none when null, otherwise a new one counting from now.
 */
export function scheduleEntryFor(
  current: MaintenanceScheduleEntry | undefined, intervalSeconds: number | null, now: number,
): MaintenanceScheduleEntry | null {
  if (intervalSeconds === null) return null;
  if (current?.intervalSeconds === intervalSeconds) return current;
  return { intervalSeconds, setAt: now };
}

/** Stores the schedule a request names: per operation, a number sets, null clears, absent keeps. */
export function applySchedule(store: MetadataStore, poolId: string, schedule: MaintenanceIntervals, now: number): void {
  const current = new Map(store.listMaintenanceSchedules(poolId).map((s) => [s.operation, s]));
  const requested: [PoolOperation, number | null | undefined][] = [
    ["scrub", schedule.scrubEverySeconds],
    ["dedupe", schedule.dedupeEverySeconds],
  ];
  for (const [operation, interval] of requested) {
    if (interval === undefined) continue;
    store.putMaintenanceSchedule(poolId, operation, scheduleEntryFor(current.get(operation), interval, now));
  }
}
