/**
 * Brings engines back in line with the records at server start (after a clean stop or a crash):
 * re-attaches pools, finishes or undoes operations a crash cut short, re-applies every export to
 * a (re)started tgtd, and reports data on disk that no record owns — never deleting it.
 */
import type { CoreContext } from "./context";
import type { ExportService } from "./export-service";
import type { PoolDeviceRecord } from "./ports";
import type { PoolRecord, VolumeRecord } from "./records";

export interface ReconcileReport {
  finishedAt: number;
  interruptedEvents: number;
  pools: Array<{ id: string; attached: boolean; error?: string }>;
  /** Objects a crash left half made or half deleted, now removed. */
  cleanedUp: string[];
  reappliedExports: number;
  failedExports: string[];
  /** Volume and snapshot directories on disk with no record (kept; an operator decides). */
  unowned: Array<{ poolId: string; volumes: string[]; snapshots: string[] }>;
}

export const INTERRUPTED_MESSAGE = "interrupted by server restart";

export async function reconcile(ctx: CoreContext, exportService: ExportService): Promise<ReconcileReport> {
  const { store, poolEngine, volumeEngine, log } = ctx;
  const report: ReconcileReport = {
    finishedAt: 0, interruptedEvents: 0, pools: [], cleanedUp: [], reappliedExports: 0, failedExports: [], unowned: [],
  };
  report.interruptedEvents = store.failProcessingEvents(INTERRUPTED_MESSAGE, Date.now());
  if (report.interruptedEvents > 0) log(`reconcile: ${report.interruptedEvents} operations were interrupted by a restart`);

  for (const pool of store.listPools()) {
    if (pool.state === "creating" || pool.state === "deleting") {
      // A pool create or delete cut short: finish taking it down; its volumes went with it.
      await poolEngine.destroyPool(pool.id, pool.devices).catch((e: unknown) => {
        log(`reconcile: destroying pool ${pool.id}: ${String(e)}`);
      });
      store.transaction(() => {
        for (const v of store.listVolumes(pool.id)) store.deleteVolume(v.id);
        for (const s of store.listSnapshots({ poolId: pool.id })) store.deleteSnapshot(s.id);
        store.deletePool(pool.id);
      });
      report.cleanedUp.push(`pool ${pool.id}`);
      continue;
    }
    try {
      await poolEngine.attachPool(pool.id, pool.devices, pool.compression);
      if (pool.state !== "available") store.setPoolState(pool.id, "available");
      // The pool works whatever this finds; a failure here only leaves the records as they were.
      await reconcileDevices(ctx, pool, report).catch((e: unknown) => {
        log(`reconcile: devices of pool ${pool.id}: ${e instanceof Error ? e.message : String(e)}`);
      });
      report.pools.push({ id: pool.id, attached: true });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      store.setPoolState(pool.id, "error");
      report.pools.push({ id: pool.id, attached: false, error: message });
      log(`reconcile: pool ${pool.id} could not be attached: ${message}`);
    }
  }

  const attached = new Set(report.pools.filter((p) => p.attached).map((p) => p.id));
  for (const poolId of attached) {
    const repaired = await volumeEngine.repairInterruptedRollbacks(poolId).catch((e: unknown) => {
      log(`reconcile: repairing rollbacks in pool ${poolId}: ${String(e)}`);
      return [];
    });
    report.cleanedUp.push(...repaired);
  }
  for (const volume of store.listVolumes()) {
    if (!attached.has(volume.poolId)) continue;
    if (volume.state === "creating" || volume.state === "deleting") {
      const exported = store.getExport(volume.id);
      if (exported !== undefined) store.deleteExport(volume.id);
      await volumeEngine.deleteVolume(volume.poolId, volume.id);
      store.deleteVolume(volume.id);
      report.cleanedUp.push(`volume ${volume.id} (${volume.state})`);
    } else if (volume.state === "available") {
      await adoptGrownSize(ctx, volume, report);
    }
  }
  for (const snapshot of store.listSnapshots()) {
    if (!attached.has(snapshot.poolId)) continue;
    if (snapshot.state === "creating" || snapshot.state === "deleting") {
      await volumeEngine.deleteSnapshot(snapshot.poolId, snapshot.id);
      store.deleteSnapshot(snapshot.id);
      report.cleanedUp.push(`snapshot ${snapshot.id} (${snapshot.state})`);
    }
  }

  for (const poolId of attached) {
    const onDisk = await volumeEngine.listOnDisk(poolId);
    const volumes = onDisk.volumes.filter((id) => store.getVolume(id)?.poolId !== poolId);
    const snapshots = onDisk.snapshots.filter((id) => store.getSnapshot(id)?.poolId !== poolId);
    if (volumes.length > 0 || snapshots.length > 0) {
      report.unowned.push({ poolId, volumes, snapshots });
      log(`reconcile: pool ${poolId} holds data no record owns (kept): volumes [${volumes.join(", ")}], snapshots [${snapshots.join(", ")}]`);
    }
  }

  // Downloads and exports a crash cut short: their files are named unfinished, so nothing else is touched.
  if (ctx.imageEngine !== undefined) {
    const directories = [
      ...ctx.settings.imageDirectories,
      ...[...attached]
        .filter((poolId) => store.getPool(poolId)?.backend === "btrfs")
        .flatMap((poolId) => [volumeEngine.imageLibraryPath(poolId), volumeEngine.scratchDirectory(poolId)]),
    ];
    for (const file of await ctx.imageEngine.removeUnfinished(directories)) report.cleanedUp.push(`unfinished image file ${file}`);
  }

  await ctx.targetEngine.start();
  report.failedExports = await exportService.reapplyAll();
  report.reappliedExports = store.listExports().length - report.failedExports.length;
  report.finishedAt = Date.now();
  log(`reconcile: ${report.pools.length} pools attached, ${report.reappliedExports} exports applied`);
  return report;
}

/** A device change a crash cut short: the records follow what btrfs has. */
async function reconcileDevices(ctx: CoreContext, pool: PoolRecord, report: ReconcileReport): Promise<void> {
  const devices = await ctx.poolEngine.reconcileDevices(pool.id, pool.devices);
  const key = (list: PoolDeviceRecord[]): string => list.map((d) => `${d.deviceId}:${d.path}`).sort().join(",");
  if (key(devices) === key(pool.devices)) return;
  // Keep the recorded order for what stays; what btrfs has beyond it goes at the end.
  const byId = new Map(devices.map((d) => [d.deviceId, d]));
  const ordered = [...pool.devices.filter((d) => byId.has(d.deviceId)), ...devices.filter((d) => !pool.devices.some((r) => r.deviceId === d.deviceId))];
  ctx.store.setPoolDevices(pool.id, ordered);
  report.cleanedUp.push(`pool ${pool.id} devices (${pool.devices.length} recorded, ${ordered.length} in btrfs)`);
  ctx.log(`reconcile: pool ${pool.id} devices now as btrfs has them: ${ordered.map((d) => d.path).join(", ")}`);
}

/**
 * An extend cut short after the engine grew the file but before the record was written leaves
 * the volume larger on disk than on record; tgtd serves the file's size, so the record follows
 * the disk (the extend's "after" state). A later extend is then compared with the real size.
 */
async function adoptGrownSize(ctx: CoreContext, volume: VolumeRecord, report: ReconcileReport): Promise<void> {
  const onDisk = await ctx.volumeEngine.volumeSizeBytes(volume.poolId, volume.id).catch(() => undefined);
  if (onDisk === undefined || onDisk <= volume.sizeBytes) return;
  ctx.store.updateVolume({ ...volume, sizeBytes: onDisk });
  report.cleanedUp.push(`volume ${volume.id} (extend finished at ${onDisk} bytes)`);
}
