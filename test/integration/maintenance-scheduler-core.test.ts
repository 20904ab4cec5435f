/**
 * The maintenance scheduler over the real SQLite store and the real job runner, with a
 * maintenance engine whose scrub finishes only when the test says so: a due run starts on its
 * own, an on-demand request meanwhile answers with the running one's event, no second run of a
 * kind starts, a pool that is not available is skipped, and nothing starts after stop().
 * (test/integration/pool-maintenance-schedule.test.ts covers the same on real btrfs.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CoreContext } from "../../server/src/core/context";
import { ExportService } from "../../server/src/core/export-service";
import { JobRunner } from "../../server/src/core/jobs";
import { MaintenanceScheduler } from "../../server/src/core/maintenance-scheduler";
import { PoolMaintenanceService } from "../../server/src/core/pool-maintenance-service";
import { PoolService } from "../../server/src/core/pool-service";
import type { DedupeOutcome, PoolEngine, PoolMaintenanceEngine, ScrubOutcome, TargetEngine, VolumeEngine } from "../../server/src/core/ports";
import type { ObjectState } from "../../server/src/core/records";
import { SqliteMetadataStore } from "../../server/src/engines/sqlite/metadata-db";

const AVAILABLE = "a".repeat(32);
const DELETING = "d".repeat(32);
const CLEAN: ScrubOutcome = { bytesScrubbed: 1, csumErrors: 0, readErrors: 0, verifyErrors: 0, superErrors: 0, correctedErrors: 0, uncorrectableErrors: 0 };

/** A scrub that runs until released; dedupe finishes at once. Records which pools ran what. */
class GatedMaintenanceEngine implements PoolMaintenanceEngine {
  readonly runs: string[] = [];
  private release: (() => void) | undefined;

  scrub(poolId: string): Promise<ScrubOutcome> {
    this.runs.push(`scrub:${poolId}`);
    return new Promise((done) => {
      this.release = () => {
        done(CLEAN);
      };
    });
  }
  dedupe(poolId: string): Promise<DedupeOutcome> {
    this.runs.push(`dedupe:${poolId}`);
    return Promise.resolve({ usedBytesBefore: 0, usedBytesAfter: 0, filesScanned: 0 });
  }
  compressionUsage(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  finishScrub(): void {
    this.release?.();
  }
}

/** The scheduler touches neither the pool engine nor tgtd: any use fails the test. */
function unused(name: string): object {
  return new Proxy({}, { get: (_target, key) => { throw new Error(`${name}.${String(key)} is not for the scheduler`); } });
}

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setUp() {
  const dir = mkdtempSync(join(resolve(__dirname, "..", "..", ".work"), "scheduler-"));
  const store = new SqliteMetadataStore(join(dir, "metadata.db"));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  cleanups.push(() => {
    store.close();
  });
  const log: string[] = [];
  const ctx: CoreContext = {
    store, poolEngine: unused("poolEngine") as PoolEngine, volumeEngine: unused("volumeEngine") as VolumeEngine, targetEngine: unused("targetEngine") as TargetEngine,
    jobs: new JobRunner(store, (m) => { log.push(m); }), log: (m) => { log.push(m); },
    settings: { portals: [], iqnPrefix: "iqn.x", allowedBlockDevices: [], imageDirectories: [], vendor: "t", version: "0", serverName: "t" },
  };
  const engine = new GatedMaintenanceEngine();
  const maintenance = new PoolMaintenanceService(ctx, new PoolService(ctx, new ExportService(ctx)), engine);
  // Every tick starts by reading all due times (dueTimes() without a pool): that counts the ticks.
  const dueTimes = vi.spyOn(maintenance, "dueTimes");
  const ticks = (): number => dueTimes.mock.calls.filter((args) => args[0] === undefined).length;
  /** Waits for `n` more ticks: a busy machine may fit fewer than expected into a fixed sleep. */
  const moreTicks = async (n: number): Promise<void> => {
    const target = ticks() + n;
    await until(`${n} more scheduler ticks`, () => ticks() >= target);
  };
  const scheduler = new MaintenanceScheduler(ctx, maintenance, 25);
  cleanups.push(() => scheduler.stop());
  const addPool = (id: string, state: ObjectState): void => {
    store.insertPool({ id, name: id.slice(0, 4), description: null, raid: "single", compression: "none", maxOversubscription: null, state, ctime: 0, devices: [], backend: "btrfs", ceph: null });
  };
  return { store, engine, maintenance, scheduler, addPool, log, ticks, moreTicks };
}

describe("MaintenanceScheduler", () => {
  it("starts a due run once, shares it with an on-demand request, and skips pools that are not available", async () => {
    const { store, engine, maintenance, scheduler, addPool, log, moreTicks } = setUp();
    addPool(AVAILABLE, "available");
    addPool(DELETING, "deleting");
    const overdue = { intervalSeconds: 10, setAt: Date.now() - 60_000 };
    store.putMaintenanceSchedule(AVAILABLE, "scrub", overdue);
    store.putMaintenanceSchedule(DELETING, "scrub", overdue);
    scheduler.start();

    await until("the scheduled scrub", () => engine.runs.includes(`scrub:${AVAILABLE}`));
    const running = store.findLatestEvent(AVAILABLE, "scrub");
    expect(running?.status).toBe("Processing");
    const onDemand = await maintenance.start(AVAILABLE, "scrub");
    expect(onDemand.reused).toBe(true);
    expect(onDemand.event.id).toBe(running?.id);
    // Ticks go on while it runs: still one scrub, and none of the pool being deleted.
    await moreTicks(3);
    expect(engine.runs).toEqual([`scrub:${AVAILABLE}`]);
    expect(maintenance.dueTimes(AVAILABLE)[0]?.running).toBe(true);
    // Skipped quietly, not tried and refused (which would be logged).
    expect(log.filter((m) => m.includes(DELETING))).toEqual([]);

    engine.finishScrub();
    const finished = await onDemand.done;
    expect(finished.status).toBe("Complete");
    // The next one is due a full interval after this one finished: nothing starts now.
    expect(maintenance.dueTimes(AVAILABLE)[0]?.dueAt).toBe((finished.finished ?? 0) + 10_000);
    await moreTicks(3);
    expect(engine.runs).toEqual([`scrub:${AVAILABLE}`]);
  });

  it("starts nothing once stopped", async () => {
    const { store, engine, scheduler, addPool, ticks } = setUp();
    addPool(AVAILABLE, "available");
    scheduler.start();
    await scheduler.stop();
    const ticksAtStop = ticks();
    store.putMaintenanceSchedule(AVAILABLE, "dedupe", { intervalSeconds: 10, setAt: Date.now() - 60_000 });
    // Eight tick intervals: a 25 ms timer still set would fire before this 200 ms one, however late both are.
    await new Promise((r) => setTimeout(r, 200));
    expect(ticks()).toBe(ticksAtStop);
    expect(engine.runs).toEqual([]);
  });
});
