/**
 * Changing an existing volume in place (PUT with only `metadata`): names, size (grow only),
 * snapshot limits, compression, cache mode, thin/thick provisioning, and a move to another pool.
 * Every change keeps the volume's id, data and export.
 */
import { requireBackendSupports } from "./backend-features";
import type { CoreContext } from "./context";
import { poolLock, volumeLock } from "./context";
import { DomainError } from "./domain-error";
import type { ExportService } from "./export-service";
import type { StartedJob } from "./jobs";
import type { PoolService } from "./pool-service";
import { requireWritable } from "./replica-service";
import type { VolumeRecord } from "./records";
import type { VolumeChanges } from "./commands";

interface Modification {
  before: VolumeRecord;
  after: VolumeRecord;
}

export class VolumeModification {
  constructor(
    private readonly ctx: CoreContext,
    private readonly pools: PoolService,
    private readonly exportService: ExportService,
  ) {}

  start(id: string, changes: VolumeChanges): Promise<StartedJob> {
    const target = changes.moveToPoolId;
    const source = this.ctx.store.getVolume(id)?.poolId;
    // A move holds both pools, so that neither can be deleted under the copy.
    const pools = target === undefined || source === undefined || target === source ? [] : [poolLock(source), poolLock(target)];
    return this.ctx.jobs.start<Modification>({
      lockKeys: [volumeLock(id), ...pools],
      objectType: "volume",
      objectId: id,
      operation: "modify",
      admit: () => this.admit(id, changes),
      work: (change) => this.apply(change),
      // A grown file cannot be shrunk back safely; the record keeps the old size so a retry grows it again.
      undo: () => undefined,
    });
  }

  private requireAvailable(id: string): VolumeRecord {
    const volume = this.ctx.store.getVolume(id);
    if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${id} does not exist`);
    if (volume.state !== "available") throw new DomainError("BUSY", `volume ${id} is ${volume.state}`);
    return volume;
  }

  private async admit(id: string, changes: VolumeChanges): Promise<Modification> {
    const before = this.requireAvailable(id);
    requireWritable(this.ctx, id, "change");
    const size = changes.sizeBytes ?? before.sizeBytes;
    if (size < before.sizeBytes) {
      throw new DomainError("INVALID_ARGUMENT",
        `a size of ${size} bytes is smaller than the volume's ${before.sizeBytes} bytes; volumes never shrink`, "sizeBytes");
    }
    const after: VolumeRecord = {
      ...before,
      poolId: changes.moveToPoolId ?? before.poolId,
      name: changes.name === undefined ? before.name : changes.name ?? id,
      description: changes.description === undefined ? before.description : changes.description,
      sizeBytes: size,
      maximumSnapshot: changes.maximumSnapshot ?? before.maximumSnapshot,
      snapshotQuota: changes.snapshotQuota ?? before.snapshotQuota,
      compression: changes.compression ?? before.compression,
      cacheMode: changes.cacheMode ?? before.cacheMode,
      thin: changes.thin ?? before.thin,
      mtime: Date.now(),
    };
    this.requireBackendCanChange(before, after);
    if (after.poolId !== before.poolId) await this.admitMove(before, after);
    else await this.admitGrowth(before, after);
    return { before, after };
  }

  private requireBackendCanChange(before: VolumeRecord, after: VolumeRecord): void {
    const pool = this.pools.require(before.poolId);
    if (after.poolId !== before.poolId) {
      requireBackendSupports(pool, "crossPoolCopy", "moveToPoolId");
      const target = this.ctx.store.getPool(after.poolId);
      if (target !== undefined) requireBackendSupports(target, "crossPoolCopy", "moveToPoolId");
    }
    if (after.thin !== before.thin) requireBackendSupports(pool, "provisioningChange", "thin");
    if (after.compression !== before.compression) requireBackendSupports(pool, "compression", "compression");
  }

  /** Room in the volume's own pool for what grows: new size, and the blocks a thick volume allocates. */
  private async admitGrowth(before: VolumeRecord, after: VolumeRecord): Promise<void> {
    const field = after.thin !== before.thin ? "thin" : "sizeBytes";
    const pool = (): ReturnType<PoolService["requireUsable"]> => this.pools.requireUsable(before.poolId, field);
    if (before.thin && !after.thin) {
      const allocated = await this.ctx.volumeEngine.allocatedBytes(before.poolId, before.id);
      await this.pools.checkCapacity(pool(), after.sizeBytes - allocated, false, field);
    } else if (after.sizeBytes > before.sizeBytes) {
      await this.pools.checkCapacity(pool(), after.sizeBytes - before.sizeBytes, after.thin, field);
    }
  }

  private async admitMove(before: VolumeRecord, after: VolumeRecord): Promise<void> {
    const field = "moveToPoolId";
    const id = before.id;
    const snapshots = this.ctx.store.listSnapshots({ volumeId: id }).length;
    if (snapshots > 0) {
      throw new DomainError("BUSY",
        `volume ${id} has ${snapshots} snapshots, which stay in pool ${before.poolId}; delete them before moving the volume`, field);
    }
    const exported = this.ctx.store.getExport(id);
    if (exported !== undefined) {
      const sessions = new Set((await this.ctx.targetEngine.ioCounters()).filter((c) => c.tid === exported.tid).map((c) => c.sid));
      if (sessions.size > 0) {
        throw new DomainError("BUSY",
          `volume ${id} has ${sessions.size} iSCSI sessions logged in to ${exported.iqn}; log them out before moving it (its writes would be lost)`, field);
      }
    }
    const pool = this.pools.requireUsable(after.poolId, field);
    await this.pools.checkCapacity(pool, after.sizeBytes, after.thin, field);
  }

  private async apply({ before, after }: Modification): Promise<void> {
    const moved = after.poolId !== before.poolId;
    if (moved) {
      // The target stays down from the copy until the record names the new pool, so that no
      // initiator can log in and write to the copy being left behind.
      await this.exportService.whileWithdrawn(after.id, () => this.moveAndChange(before, after));
    } else {
      await this.changeInPlace(before, after);
    }
    if (moved || after.cacheMode !== before.cacheMode || after.sizeBytes > before.sizeBytes) await this.exportService.reapplyLun(after);
  }

  private async changeInPlace(before: VolumeRecord, after: VolumeRecord): Promise<void> {
    const engine = this.ctx.volumeEngine;
    if (after.compression !== before.compression) await engine.setVolumeCompression(after.poolId, after.id, after.compression);
    if (after.thin !== before.thin) await engine.setProvisioning(after.poolId, after.id, after.thin);
    if (after.sizeBytes > before.sizeBytes) await engine.resizeVolume(after.poolId, after.id, after.sizeBytes, after.thin);
    this.ctx.store.updateVolume(after);
  }

  /** The record switches pools only once the copy is whole; the old copy goes after it. */
  private async moveAndChange(before: VolumeRecord, after: VolumeRecord): Promise<void> {
    const engine = this.ctx.volumeEngine;
    await this.copyToNewPool(before, after);
    if (after.compression !== before.compression) await engine.setVolumeCompression(after.poolId, after.id, after.compression);
    if (after.sizeBytes > before.sizeBytes) await engine.resizeVolume(after.poolId, after.id, after.sizeBytes, after.thin);
    this.ctx.store.updateVolume(after);
    await engine.deleteVolume(before.poolId, before.id);
  }

  private async copyToNewPool(before: VolumeRecord, after: VolumeRecord): Promise<void> {
    const engine = this.ctx.volumeEngine;
    const copied = async (): Promise<boolean> => (await engine.listOnDisk(after.poolId)).volumes.includes(after.id);
    // The record names the old pool, so a copy already there is what an interrupted move left.
    if (await copied()) await engine.deleteVolume(after.poolId, after.id);
    try {
      await engine.copyAcrossPools({ poolId: before.poolId, path: engine.volumeDataPath(before.poolId, before.id) }, after.poolId, after.id);
      // The copy is sparse: a thick volume allocates its blocks again in the new pool.
      if (!after.thin) await engine.setProvisioning(after.poolId, after.id, false);
    } catch (error) {
      if (await copied()) await engine.deleteVolume(after.poolId, after.id);
      throw error;
    }
  }
}
