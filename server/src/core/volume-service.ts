import { requireBackendSupports } from "./backend-features";
import type { ImageFormat, ImageSource } from "@prophetstor/dpl-provider/wire";
import type {
  ClonedVolume, NewSnapshot, NewVolume, RollbackTo, SpawnedVolume, VolumeChanges, VolumeFromImage, VolumeFromSnapshot, VolumeSettings,
} from "./commands";
import type { CoreContext } from "./context";
import { poolLock, volumeLock } from "./context";
import { DomainError, notFound } from "./domain-error";
import { ReuseEvent, type StartedJob } from "./jobs";
import type { ExportService } from "./export-service";
import type { PoolService } from "./pool-service";
import type { EventRecord, SnapshotRecord, VolumeRecord } from "./records";
import { requireWritable } from "./replica-service";
import { VolumeModification } from "./volume-modification";

export interface VolumeView {
  volume: VolumeRecord;
  usedBytes: number;
  snapshotIds: string[];
}

const DEFAULT_MAXIMUM_SNAPSHOT = 1024;

/** An image source whose format and size admission has already checked. */
export type ResolvedImage =
  | { kind: "file"; path: string; format: ImageFormat; virtualSize: number }
  | { kind: "url"; url: string; format: ImageFormat; virtualSize: number };

/** How a new volume gets its data. */
type VolumeSource =
  | { kind: "empty" }
  | { kind: "snapshot"; snapshot: SnapshotRecord }
  | { kind: "volume"; volume: VolumeRecord }
  | { kind: "image"; image: ResolvedImage };

/** Volumes are whole 512-byte sectors to an initiator; an image of odd length is rounded up. */
function sectorAligned(bytes: number): number {
  return Math.ceil(bytes / 512) * 512;
}

/** Fields a create-like request pins down; a retry must match them to count as the same request. */
function sameSpec(a: VolumeRecord, b: VolumeRecord): boolean {
  return a.poolId === b.poolId && a.sizeBytes === b.sizeBytes && a.thin === b.thin && a.originId === b.originId
    && a.name === b.name && a.compression === b.compression;
}

export class VolumeService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly pools: PoolService,
    private readonly exportService: ExportService,
  ) {
    this.modification = new VolumeModification(ctx, pools, exportService);
  }

  private readonly modification: VolumeModification;

  list(): VolumeRecord[] {
    return this.ctx.store.listVolumes();
  }

  /** What the list reply shows, read without building every record. */
  listNames(): Array<{ id: string; name: string }> {
    return this.ctx.store.listVolumeNames();
  }

  find(id: string): VolumeRecord | undefined {
    return this.ctx.store.getVolume(id);
  }

  /** A snapshot by its own id, whichever volume it belongs to. */
  findSnapshot(snapshotId: string): SnapshotRecord | undefined {
    return this.ctx.store.getSnapshot(snapshotId);
  }

  allocatedBytes(volume: VolumeRecord): Promise<number> {
    return this.ctx.volumeEngine.allocatedBytes(volume.poolId, volume.id);
  }

  require(id: string): VolumeRecord {
    const volume = this.ctx.store.getVolume(id);
    if (volume === undefined) throw notFound("volume", id);
    return volume;
  }

  private requireAvailable(id: string): VolumeRecord {
    const volume = this.require(id);
    if (volume.state !== "available") throw new DomainError("BUSY", `volume ${id} is ${volume.state}`);
    return volume;
  }

  async view(id: string): Promise<VolumeView> {
    const volume = this.require(id);
    let usedBytes = 0;
    if (volume.state === "available") {
      usedBytes = await this.ctx.volumeEngine.allocatedBytes(volume.poolId, id).catch(() => 0);
    }
    const snapshotIds = this.ctx.store.listSnapshots({ volumeId: id }).map((s) => s.id);
    return { volume, usedBytes, snapshotIds };
  }

  // ---------------------------------------------------------------- creation

  create(id: string, volume: NewVolume): Promise<StartedJob> {
    return this.createFrom(id, { kind: "empty" }, "create", { ...volume, poolField: "poolId" });
  }

  copyFromSnapshot(id: string, copy: VolumeFromSnapshot): Promise<StartedJob> {
    const snapshot = this.requireUsableSnapshot(copy.snapshotId);
    const s = copy.settings;
    return this.createFrom(id, { kind: "snapshot", snapshot }, "copy", {
      ...s, poolId: s.poolId ?? snapshot.poolId, poolField: "settings.poolId", sizeBytes: s.sizeBytes ?? snapshot.sizeBytes,
    });
  }

  /** A volume sharing the snapshot's blocks; on btrfs that is exactly what copy does too. */
  spawn(id: string, spawned: SpawnedVolume): Promise<StartedJob> {
    const snapshot = this.requireUsableSnapshot(spawned.snapshotId);
    return this.createFrom(id, { kind: "snapshot", snapshot }, "spawn", {
      poolId: snapshot.poolId, poolField: "snapshotId",
      name: spawned.name, description: spawned.description, sizeBytes: snapshot.sizeBytes, thin: true,
    });
  }

  clone(id: string, clone: ClonedVolume): Promise<StartedJob> {
    const source = this.ctx.store.getVolume(clone.sourceVolumeId);
    if (source === undefined) throw new DomainError("NOT_FOUND", `source volume ${clone.sourceVolumeId} does not exist`, "sourceVolumeId");
    if (source.state !== "available") throw new DomainError("BUSY", `source volume ${clone.sourceVolumeId} is ${source.state}`, "sourceVolumeId");
    const s = clone.settings;
    return this.createFrom(id, { kind: "volume", volume: source }, "clone", {
      ...s, poolId: s.poolId ?? source.poolId, poolField: "settings.poolId", sizeBytes: s.sizeBytes ?? source.sizeBytes,
      thin: s.thin ?? source.thin, compression: s.compression ?? source.compression, cacheMode: s.cacheMode ?? source.cacheMode,
    });
  }

  /** A volume holding an image's disk; its size is the image's unless a larger one is asked for. */
  importImage(id: string, request: VolumeFromImage, image: ResolvedImage): Promise<StartedJob> {
    const s = request.settings;
    return this.createFrom(id, { kind: "image", image }, "import", {
      ...s, poolField: "settings.poolId", sizeBytes: s.sizeBytes ?? sectorAligned(image.virtualSize), imageSource: request.image,
    });
  }

  private requireUsableSnapshot(snapshotId: string): SnapshotRecord {
    const snapshot = this.ctx.store.getSnapshot(snapshotId);
    if (snapshot === undefined) throw new DomainError("NOT_FOUND", `snapshot ${snapshotId} does not exist`, "snapshotId");
    if (snapshot.state !== "available") throw new DomainError("BUSY", `snapshot ${snapshotId} is ${snapshot.state}`, "snapshotId");
    return snapshot;
  }

  private createFrom(
    id: string,
    source: VolumeSource,
    operation: string,
    spec: VolumeSettings & {
      poolId: string; sizeBytes: number; imageSource?: ImageSource | undefined;
      /** The command property that named the pool, to blame when it is unusable. */
      poolField: string;
    },
  ): Promise<StartedJob> {
    const sourceSize = sizeOfSource(source);
    const sizeField = source.kind === "empty" ? "sizeBytes" : "settings.sizeBytes";
    if (spec.sizeBytes < sourceSize) {
      const what = source.kind === "image" ? "image's virtual size of" : "source's";
      throw new DomainError("INVALID_ARGUMENT",
        `a size of ${spec.sizeBytes} bytes is smaller than the ${what} ${sourceSize} bytes; volumes never shrink`, sizeField);
    }
    this.requireBackendCanMake(source, spec);
    const sourceLock = source.kind === "volume" ? [volumeLock(source.volume.id)] : [];
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(id), poolLock(spec.poolId), ...sourceLock],
      objectType: "volume",
      objectId: id,
      operation,
      admit: async () => {
        const pool = this.pools.requireUsable(spec.poolId, spec.poolField);
        const now = Date.now();
        const record: VolumeRecord = {
          id,
          poolId: pool.id,
          name: spec.name ?? id,
          description: spec.description ?? null,
          sizeBytes: spec.sizeBytes,
          thin: spec.thin ?? true,
          compression: spec.compression ?? "none",
          cacheMode: spec.cacheMode ?? "writeback",
          maximumSnapshot: spec.maximumSnapshot ?? DEFAULT_MAXIMUM_SNAPSHOT,
          snapshotQuota: spec.snapshotQuota ?? 0,
          state: "creating",
          originId: source.kind === "snapshot" ? source.snapshot.id : source.kind === "volume" ? source.volume.id : null,
          imageSource: spec.imageSource ?? null,
          volumeGroupId: null,
          ctime: now,
          mtime: now,
          createEventId: null,
        };
        const existing = this.ctx.store.getVolume(id);
        if (existing !== undefined) {
          if (existing.state === "deleting" || !sameSpec(existing, record)) {
            throw new DomainError("ALREADY_EXISTS", `volume ${id} already exists with a different specification`);
          }
          return new ReuseEvent(this.ctx.jobs.lastEvent("volume", id, operation));
        }
        if (this.ctx.store.getSnapshot(id) !== undefined) {
          throw new DomainError("ALREADY_EXISTS", `${id} is already a snapshot id`);
        }
        // A thin volume's full logical size counts toward the over-subscription cap even when it
        // shares all its data with the source (provisioned bytes sum every volume's size); a thick
        // one is checked against free space for its whole size, the cautious side.
        await this.pools.checkCapacity(pool, spec.sizeBytes, record.thin, sizeField);
        this.ctx.store.insertVolume(record);
        return record;
      },
      work: async (record, progress) => {
        await this.materialise(record, source, progress);
        const finished = { ...record, state: "available" as const, mtime: Date.now() };
        this.ctx.store.updateVolume(finished);
      },
      undo: async (record) => {
        await this.ctx.volumeEngine.deleteVolume(record.poolId, record.id);
        this.ctx.store.deleteVolume(record.id);
      },
    });
  }

  /** Refuses, before any job, what the target pool's (or the source pool's) backend cannot do. */
  private requireBackendCanMake(source: VolumeSource, spec: VolumeSettings & { poolId: string; poolField: string }): void {
    const pool = this.ctx.store.getPool(spec.poolId);
    if (pool === undefined) return; // the job's admit names the missing pool
    if (source.kind === "image") requireBackendSupports(pool, "images", spec.poolField);
    if ((spec.compression ?? "none") !== "none") requireBackendSupports(pool, "compression", "compression");
    if (source.kind === "snapshot" || source.kind === "volume") {
      const sourcePool = this.ctx.store.getPool(sourceOnPool(source));
      if (sourcePool !== undefined && sourcePool.id !== pool.id) {
        requireBackendSupports(pool, "crossPoolCopy", spec.poolField);
        requireBackendSupports(sourcePool, "crossPoolCopy", spec.poolField);
      }
    }
  }

  private async fillFromImage(record: VolumeRecord, image: ResolvedImage, progress: (fraction: number) => void): Promise<void> {
    const images = this.ctx.imageEngine;
    if (images === undefined) throw new DomainError("UNSUPPORTED", "this server has no image engine");
    const spec = { sizeBytes: record.sizeBytes, thin: record.thin, compression: record.compression };
    await this.ctx.volumeEngine.volumeFromFill(record.poolId, record.id, spec, async (data) => {
      if (image.kind === "file") {
        await images.writeRaw({ path: image.path, format: image.format }, data);
      } else if (image.format === "raw") {
        // Straight into the volume: zero blocks become holes as they arrive.
        await images.download(image.url, data, progress, image.virtualSize);
      } else {
        const scratch = this.ctx.volumeEngine.scratchPath(record.poolId, `${record.id}.qcow2`);
        try {
          await images.download(image.url, scratch, (fraction) => { progress(fraction * 0.9); }, qcow2FileLimit(image.virtualSize));
          await images.writeRaw({ path: scratch, format: "qcow2" }, data);
        } finally {
          await images.remove(scratch);
        }
      }
    });
  }

  private async materialise(record: VolumeRecord, source: VolumeSource, progress: (fraction: number) => void): Promise<void> {
    const engine = this.ctx.volumeEngine;
    if (source.kind === "empty") {
      await engine.createVolume(record.poolId, record.id, record.sizeBytes, record.thin, record.compression);
      return;
    }
    if (source.kind === "image") {
      await this.fillFromImage(record, source.image, progress);
      return;
    }
    const sourcePool = sourceOnPool(source);
    if (sourcePool === record.poolId) {
      if (source.kind === "snapshot") await engine.volumeFromSnapshot(sourcePool, source.snapshot.id, record.id);
      else await engine.volumeFromVolume(sourcePool, source.volume.id, record.id);
    } else {
      const path = source.kind === "snapshot"
        ? engine.snapshotDataPath(sourcePool, source.snapshot.id)
        : engine.volumeDataPath(sourcePool, source.volume.id);
      await engine.copyAcrossPools({ poolId: sourcePool, path }, record.poolId, record.id);
    }
    const sourceSize = source.kind === "snapshot" ? source.snapshot.sizeBytes : source.volume.sizeBytes;
    if (record.sizeBytes > sourceSize || !record.thin) {
      await engine.resizeVolume(record.poolId, record.id, record.sizeBytes, record.thin);
    }
  }

  // ---------------------------------------------------------------- modify, delete

  modify(id: string, changes: VolumeChanges): Promise<StartedJob> {
    return this.modification.start(id, changes);
  }

  /**
   * Deleting a volume removes its export (with force; refused without) and its own data.
   * Its snapshots are independent subvolumes: they stay, listed under the deleted volume's path,
   * and can still be copied from or deleted — the order of deletes never matters.
   */
  delete(id: string, force: boolean): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(id)],
      objectType: "volume",
      objectId: id,
      operation: "delete",
      admit: () => {
        const volume = this.require(id);
        if (volume.state === "deleting") return new ReuseEvent(this.ctx.jobs.lastEvent("volume", id, "delete"));
        if (volume.state === "creating") throw new DomainError("BUSY", `volume ${id} is still being created`);
        requireWritable(this.ctx, id, "delete");
        if (!force && this.ctx.store.getExport(id) !== undefined) {
          throw new DomainError("BUSY", `volume ${id} is exported; unassign its initiators or delete it with force`);
        }
        this.requireSnapshotsGoneOnRbd(volume);
        this.ctx.store.updateVolume({ ...volume, state: "deleting", mtime: Date.now() });
        return volume;
      },
      work: async (volume) => {
        await this.exportService.removeExport(volume.id);
        await this.ctx.volumeEngine.deleteVolume(volume.poolId, volume.id);
        this.ctx.store.deleteVolume(volume.id);
      },
      undo: (volume) => {
        this.ctx.store.updateVolume({ ...volume, state: "error", mtime: Date.now() });
      },
    });
  }

  /** An RBD image holds its own snapshots, so on an rbd pool they go before the volume does. */
  private requireSnapshotsGoneOnRbd(volume: VolumeRecord): void {
    if (this.ctx.store.getPool(volume.poolId)?.backend !== "rbd") return;
    const snapshots = this.ctx.store.listSnapshots({ volumeId: volume.id });
    if (snapshots.length === 0) return;
    const named = snapshots.slice(0, 5).map((s) => s.id).join(", ") + (snapshots.length > 5 ? ", …" : "");
    throw new DomainError("BUSY",
      `volume ${volume.id} is in an rbd pool, where its ${snapshots.length} snapshots (${named}) live inside its image; delete them before the volume`);
  }

  // ---------------------------------------------------------------- snapshots, rollback

  listSnapshots(volumeId: string): SnapshotRecord[] {
    const snapshots = this.ctx.store.listSnapshots({ volumeId });
    if (snapshots.length === 0 && this.ctx.store.getVolume(volumeId) === undefined) throw notFound("volume", volumeId);
    return snapshots;
  }

  getSnapshot(volumeId: string, snapshotId: string): SnapshotRecord {
    const snapshot = this.ctx.store.getSnapshot(snapshotId);
    if (snapshot?.volumeId !== volumeId) throw notFound("snapshot", `${volumeId}/${snapshotId}`);
    return snapshot;
  }

  createSnapshot(volumeId: string, snapshot: NewSnapshot): Promise<StartedJob> {
    const snapshotId = snapshot.snapshotId;
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId)],
      objectType: "volume",
      objectId: volumeId,
      operation: "snapshot",
      admit: () => {
        const existing = this.ctx.store.getSnapshot(snapshotId);
        if (existing !== undefined) {
          if (existing.volumeId !== volumeId) throw new DomainError("ALREADY_EXISTS", `snapshot ${snapshotId} already exists on volume ${existing.volumeId}`, "snapshotId");
          return new ReuseEvent(this.ctx.jobs.lastEvent("volume", volumeId, "snapshot"));
        }
        if (this.ctx.store.getVolume(snapshotId) !== undefined) throw new DomainError("ALREADY_EXISTS", `${snapshotId} is already a volume id`, "snapshotId");
        const volume = this.requireAvailable(volumeId);
        const count = this.ctx.store.listSnapshots({ volumeId }).length;
        if (count >= volume.maximumSnapshot) {
          throw new DomainError("CONFLICT", `volume ${volumeId} already has its maximum of ${volume.maximumSnapshot} snapshots`, "snapshotId");
        }
        const record: SnapshotRecord = {
          id: snapshotId,
          volumeId,
          poolId: volume.poolId,
          name: snapshot.name ?? snapshotId,
          description: snapshot.description ?? null,
          sizeBytes: volume.sizeBytes,
          volumeGroupId: null,
          groupSnapshotId: null,
          state: "creating",
          ctime: Date.now(),
        };
        this.ctx.store.insertSnapshot(record);
        return record;
      },
      work: async (record) => {
        await this.ctx.volumeEngine.createSnapshot(record.poolId, volumeId, record.id);
        this.ctx.store.setSnapshotState(record.id, "available");
      },
      undo: async (record) => {
        await this.ctx.volumeEngine.deleteSnapshot(record.poolId, record.id);
        this.ctx.store.deleteSnapshot(record.id);
      },
    });
  }

  deleteSnapshot(volumeId: string, snapshotId: string): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId)],
      objectType: "volume",
      objectId: volumeId,
      operation: "delete_snapshot",
      admit: () => {
        const snapshot = this.getSnapshot(volumeId, snapshotId);
        if (snapshot.state === "deleting") return new ReuseEvent(this.ctx.jobs.lastEvent("volume", volumeId, "delete_snapshot"));
        if (snapshot.state === "creating") throw new DomainError("BUSY", `snapshot ${snapshotId} is still being created`);
        this.ctx.store.setSnapshotState(snapshotId, "deleting");
        return snapshot;
      },
      work: async (snapshot) => {
        await this.ctx.volumeEngine.deleteSnapshot(snapshot.poolId, snapshot.id);
        this.ctx.store.deleteSnapshot(snapshot.id);
      },
      undo: (snapshot) => {
        this.ctx.store.setSnapshotState(snapshot.id, "error");
      },
    });
  }

  /**
   * An exported volume is rolled back in place (same inode): its LUN keeps serving, now with the
   * snapshot's data. Any other swaps in a copy of the snapshot, in constant time.
   */
  rollback(volumeId: string, { snapshotId }: RollbackTo): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId)],
      objectType: "volume",
      objectId: volumeId,
      operation: "rollback",
      admit: () => {
        const volume = this.requireAvailable(volumeId);
        requireWritable(this.ctx, volumeId, "be rolled back");
        const snapshot = this.ctx.store.getSnapshot(snapshotId);
        if (snapshot === undefined) throw new DomainError("NOT_FOUND", `snapshot ${snapshotId} does not exist`, "snapshotId");
        if (snapshot.volumeId !== volumeId) {
          throw new DomainError("INVALID_ARGUMENT", `snapshot ${snapshotId} was taken of volume ${snapshot.volumeId}, not ${volumeId}`, "snapshotId");
        }
        if (snapshot.state !== "available") throw new DomainError("BUSY", `snapshot ${snapshotId} is ${snapshot.state}`, "snapshotId");
        return { volume, snapshot };
      },
      work: async ({ volume, snapshot }) => {
        // tgtd holds an exported volume's file (or RBD image) open: its LUN is closed meanwhile (the
        // target and its sessions stay logged in), so the rollback is the constant-time swap
        // whatever the volume's extent count, and tgtd opens the rolled-back data afterwards.
        await this.exportService.whileLunClosed(volume.id, async () => {
          await this.ctx.volumeEngine.rollbackVolume(volume.poolId, volume.id, snapshot.id, "swap");
          // The volume keeps its current size when it grew after the snapshot.
          if (volume.sizeBytes > snapshot.sizeBytes) {
            await this.ctx.volumeEngine.resizeVolume(volume.poolId, volume.id, volume.sizeBytes, volume.thin);
          }
        });
        this.ctx.store.updateVolume({ ...volume, mtime: Date.now() });
      },
      undo: () => undefined,
    });
  }

  /** The finished or running event with this id, when it belongs to this object. */
  eventOf(objectId: string, eventId: string): EventRecord {
    const event = this.ctx.store.getEvent(eventId);
    if (event?.objectId !== objectId) throw notFound("event", eventId);
    return event;
  }
}

function sizeOfSource(source: VolumeSource): number {
  switch (source.kind) {
    case "empty": return 0;
    case "snapshot": return source.snapshot.sizeBytes;
    case "volume": return source.volume.sizeBytes;
    case "image": return source.image.virtualSize;
  }
}

function sourceOnPool(source: Extract<VolumeSource, { kind: "snapshot" | "volume" }>): string {
  return source.kind === "snapshot" ? source.snapshot.poolId : source.volume.poolId;
}

/** A qcow2 file holds its clusters plus metadata (tables, refcounts): never much more than its disk. */
function qcow2FileLimit(virtualSize: number): number {
  return Math.ceil(virtualSize * 1.05) + 64 * 2 ** 20;
}
