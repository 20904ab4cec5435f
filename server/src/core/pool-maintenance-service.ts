/**
 * Pool maintenance as jobs with progress: scrub (self-heal) and dedupe. Each records its result,
 * which the pool reply then shows; compression ratios are read on demand.
 */
import type { PoolOperation } from "@prophetstor/dpl-provider/wire";
import type { MaintenanceIntervals } from "./commands";
import type { CoreContext } from "./context";
import { poolLock, poolMaintenanceLock } from "./context";
import { applySchedule, nextRunAt } from "./maintenance-schedule";
import type { ScheduledMaintenance } from "./metadata-store";
import { requireBackendSupports, requireScheduleSupported } from "./backend-features";
import { DomainError } from "./domain-error";
import type { StartedJob } from "./jobs";
import type { PoolService } from "./pool-service";
import type { PoolMaintenanceEngine } from "./ports";
import type { DedupeRecord, ScrubRecord } from "./records";

export interface PoolMaintenanceView {
  compressionRatio: number | null;
  lastScrub: ScrubRecord | null;
  lastDedupe: DedupeRecord | null;
  schedule: { scrubEverySeconds: number | null; dedupeEverySeconds: number | null };
  nextScrubAt: number | null;
  nextDedupeAt: number | null;
}

/** A scheduled operation and when it is next due; `running` while a run of that kind is in progress. */
export interface MaintenanceDue {
  poolId: string;
  operation: PoolOperation;
  dueAt: number;
  running: boolean;
}

function ratio(usage: { diskBytes: number; uncompressedBytes: number } | undefined): number | null {
  return usage === undefined ? null : Math.round((usage.uncompressedBytes / usage.diskBytes) * 1000) / 1000;
}

export class PoolMaintenanceService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly pools: PoolService,
    private readonly engine: PoolMaintenanceEngine,
  ) {}

  /**
   * Starts a scrub or dedupe. A request while the same operation runs answers with the running
   * job's event (a retried request never queues a second full pass).
   */
  async start(poolId: string, operation: PoolOperation): Promise<StartedJob> {
    requireBackendSupports(this.pools.require(poolId), operation, "metadata.pool_operation");
    this.requireAvailable(poolId);
    const running = this.ctx.store.findLatestEvent(poolId, operation);
    if (running?.status === "Processing" && this.ctx.jobs.isRunning(running.id)) {
      return { event: running, reused: true, done: this.ctx.jobs.settled(running.id) };
    }
    return this.ctx.jobs.start({
      lockKeys: [poolMaintenanceLock(poolId)],
      objectType: "pool",
      objectId: poolId,
      operation,
      admit: () => this.requireAvailable(poolId),
      work: async (_pool, progress) => {
        const started = Date.now();
        if (operation === "scrub") {
          const outcome = await this.engine.scrub(poolId, progress);
          const result: ScrubRecord = {
            started,
            finished: Date.now(),
            bytesScrubbed: outcome.bytesScrubbed,
            errorsFound: outcome.csumErrors + outcome.readErrors + outcome.verifyErrors + outcome.superErrors,
            csumErrors: outcome.csumErrors,
            readErrors: outcome.readErrors,
            correctedErrors: outcome.correctedErrors,
            uncorrectableErrors: outcome.uncorrectableErrors,
          };
          this.ctx.store.putMaintenanceResult(poolId, "scrub", result);
          this.ctx.log(`scrub of pool ${poolId}: ${result.errorsFound} errors found, ${result.correctedErrors} corrected, ${result.uncorrectableErrors} uncorrectable`);
        } else {
          const outcome = await this.engine.dedupe(poolId, progress);
          const result: DedupeRecord = {
            started,
            finished: Date.now(),
            usedBytesBefore: outcome.usedBytesBefore,
            usedBytesAfter: outcome.usedBytesAfter,
            bytesSaved: outcome.usedBytesBefore - outcome.usedBytesAfter,
            filesScanned: outcome.filesScanned,
          };
          this.ctx.store.putMaintenanceResult(poolId, "dedupe", result);
          this.ctx.log(`dedupe of pool ${poolId}: ${result.bytesSaved} bytes saved`);
        }
      },
      // Scrub repairs and dedupe shares only identical bytes: nothing to put back.
      undo: () => undefined,
    });
  }

  /**
   * Changes the pool's maintenance schedule. A quick job (records only) under the pool's lock, so
   * it never interleaves with the pool's create or delete; the scheduler sees it at its next tick.
   */
  setSchedule(poolId: string, schedule: MaintenanceIntervals): Promise<StartedJob> {
    requireScheduleSupported(this.pools.require(poolId), schedule, "metadata.maintenance_schedule");
    return this.ctx.jobs.start({
      lockKeys: [poolLock(poolId)],
      objectType: "pool",
      objectId: poolId,
      operation: "schedule",
      admit: () => this.pools.require(poolId),
      work: () => {
        applySchedule(this.ctx.store, poolId, schedule, Date.now());
      },
      // Nothing is written until work's single step, which either happens or throws.
      undo: () => undefined,
    });
  }

  /** Every scheduled operation (of one pool, or all) with its due time. */
  dueTimes(poolId?: string): MaintenanceDue[] {
    return this.ctx.store.listMaintenanceSchedules(poolId).flatMap((entry) => {
      const operation = entry.operation === "scrub" || entry.operation === "dedupe" ? entry.operation : undefined;
      if (operation === undefined) return [];
      return [{ poolId: entry.poolId, operation, ...this.dueOf({ ...entry, operation }) }];
    });
  }

  private dueOf(entry: ScheduledMaintenance & { operation: PoolOperation }): { dueAt: number; running: boolean } {
    const latest = this.ctx.store.findLatestEvent(entry.poolId, entry.operation);
    const running = latest?.status === "Processing" && this.ctx.jobs.isRunning(latest.id);
    if (running) return { dueAt: latest.started, running };
    // The recorded result also counts: events may be from before this pool's results were kept.
    const result = this.ctx.store.getMaintenanceResult(entry.poolId, entry.operation);
    const finishes = [latest?.finished, result?.finished].filter((t): t is number => typeof t === "number");
    return { dueAt: nextRunAt(entry, finishes.length === 0 ? null : Math.max(...finishes)), running };
  }

  async view(poolId: string): Promise<PoolMaintenanceView> {
    const pool = this.ctx.store.getPool(poolId);
    let compressionRatio: number | null = null;
    if (pool?.state === "available") {
      const compressed = pool.compression !== "none" || this.ctx.store.poolVolumeTotals(poolId).compressedVolumeCount > 0;
      // Nothing is ever compressed there: spare every pool read a filesystem sync and a tree walk.
      compressionRatio = compressed ? ratio(await this.engine.compressionUsage(poolId).catch(() => undefined)) : 1;
    }
    return {
      compressionRatio,
      lastScrub: this.ctx.store.getMaintenanceResult(poolId, "scrub") ?? null,
      lastDedupe: this.ctx.store.getMaintenanceResult(poolId, "dedupe") ?? null,
      ...this.scheduleView(poolId),
    };
  }

  private scheduleView(poolId: string): Pick<PoolMaintenanceView, "schedule" | "nextScrubAt" | "nextDedupeAt"> {
    const intervals = new Map(this.ctx.store.listMaintenanceSchedules(poolId).map((s) => [s.operation, s.intervalSeconds]));
    const due = new Map(this.dueTimes(poolId).map((d) => [d.operation, d.dueAt]));
    return {
      schedule: { scrubEverySeconds: intervals.get("scrub") ?? null, dedupeEverySeconds: intervals.get("dedupe") ?? null },
      nextScrubAt: due.get("scrub") ?? null,
      nextDedupeAt: due.get("dedupe") ?? null,
    };
  }

  async volumeCompressionRatio(volumeId: string): Promise<number | null> {
    const volume = this.ctx.store.getVolume(volumeId);
    if (volume?.state !== "available") return null;
    const compressed = volume.compression !== "none" || this.ctx.store.getPool(volume.poolId)?.compression !== "none";
    if (!compressed) return 1;
    return ratio(await this.engine.compressionUsage(volume.poolId, volumeId).catch(() => undefined));
  }

  private requireAvailable(poolId: string): true {
    const pool = this.pools.require(poolId);
    if (pool.state !== "available") throw new DomainError("CONFLICT", `pool ${poolId} is ${pool.state}`);
    return true;
  }
}
