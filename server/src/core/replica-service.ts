/**
 * The target side of a replication: it records the relationship a source announces, takes the
 * bytes of each send stream (resumable: an upload continues at what arrived), and on commit
 * verifies the stream, receives it as a read-only snapshot and only then publishes it: the
 * snapshot's record, and the replica volume's data made from it. The replica is read-only until
 * promoted; a promoted replica is an ordinary volume that refuses further syncs.
 */
import type { Readable } from "node:stream";
import type { TransferCommit } from "./commands";
import type { CoreContext } from "./context";
import { replicationLock, volumeLock } from "./context";
import { DomainError, notFound } from "./domain-error";
import type { PoolService } from "./pool-service";
import type { ReplicationEngine, TransferState } from "./replication-ports";
import type { ReplicationRecord, SnapshotRecord, VolumeRecord } from "./records";

/** The stream file of one transfer, in the pool's scratch directory (the same name on both sides). */
export function streamName(replicationId: string, snapshotId: string): string {
  return `replication-${replicationId}-${snapshotId}.stream`;
}

/** Snapshots a relationship keeps carry this name, so that a user can tell them from their own. */
export function replicationSnapshotName(replicationId: string): string {
  return `replication ${replicationId}`;
}

/**
 * Refuses what would change a replica before it is promoted, and the delete of any volume a
 * relationship holds (on either side).
 */
export function requireWritable(ctx: CoreContext, volumeId: string, what: string): void {
  const replication = ctx.store.findReplicationOfVolume(volumeId);
  if (replication === undefined) return;
  if (what === "delete") {
    throw new DomainError("CONFLICT", `volume ${volumeId} is held by replication ${replication.id}; delete the replication first`);
  }
  if (replication.role === "target" && !replication.promoted) {
    throw new DomainError("CONFLICT", `volume ${volumeId} is the replica of replication ${replication.id}, read-only until promoted; it cannot ${what}`);
  }
}

export class ReplicaService {
  /** Body bytes written per transfer since this server started, resends included. */
  private readonly written = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly pools: PoolService,
    private readonly engine: ReplicationEngine,
  ) {}

  private requireTarget(id: string): ReplicationRecord {
    const record = this.ctx.store.getReplication(id);
    if (record === undefined) throw notFound("replication", id);
    if (record.role !== "target") throw new DomainError("CONFLICT", `this server is the source of replication ${id}`);
    return record;
  }

  private requireReceiving(id: string): ReplicationRecord {
    const record = this.requireTarget(id);
    if (record.promoted) throw new DomainError("CONFLICT", `the replica of replication ${id} was promoted; it takes no more syncs`);
    return record;
  }

  /** Records the relationship a source announces; a repeat of the same announcement changes nothing. */
  accept(id: string, replica: { volumeId: string; poolId: string; name: string | null }): ReplicationRecord {
    const existing = this.ctx.store.getReplication(id);
    if (existing !== undefined) {
      if (existing.role === "target" && existing.volumeId === replica.volumeId) return existing;
      throw new DomainError("ALREADY_EXISTS", `replication ${id} already exists here with another volume or role`);
    }
    this.pools.requireUsable(replica.poolId, "poolId");
    if (this.ctx.store.getVolume(replica.volumeId) !== undefined) {
      throw new DomainError("ALREADY_EXISTS", `volume ${replica.volumeId} already exists on the target; a replica is made there, never over a volume`, "volumeId");
    }
    const record: ReplicationRecord = {
      id, name: replica.name, description: null, role: "target", volumeId: replica.volumeId, poolId: replica.poolId, peer: null,
      peerPoolId: null, rpoSeconds: null, rateLimitBytesPerSecond: null, promoted: false, lastSnapshotId: null, lastSnapshotTime: null,
      lastSyncFinished: null, lastSyncBytes: 0, totalBytes: 0, lastError: null, pending: null, ctime: Date.now(),
    };
    this.ctx.store.putReplication(record);
    return record;
  }

  async transferState(id: string, snapshotId: string): Promise<TransferState> {
    const record = this.requireReceiving(id);
    const receivedBytes = await this.engine.streamLength(record.poolId, streamName(id, snapshotId));
    return { receivedBytes, writtenBytes: this.written.get(`${id}/${snapshotId}`) ?? receivedBytes };
  }

  /** Appends an upload's bytes at `offset`, which must be what is held (a resend would duplicate bytes). */
  async append(id: string, snapshotId: string, offset: number, data: Readable): Promise<TransferState> {
    const key = `${id}/${snapshotId}`;
    const release = await this.ctx.jobs.lock.acquire([`transfer:${key}`]);
    try {
      const record = this.requireReceiving(id);
      const name = streamName(id, snapshotId);
      const held = await this.engine.streamLength(record.poolId, name);
      if (offset !== held) throw new DomainError("CONFLICT", `the target holds ${held} bytes of this transfer; send from there`, "offset");
      const written = await this.engine.appendToStream(record.poolId, name, offset, data);
      this.written.set(key, (this.written.get(key) ?? held) + written);
      return await this.transferState(id, snapshotId);
    } finally {
      release();
    }
  }

  /** Verifies and receives the stream, then publishes the snapshot and the replica's data made from it. */
  async commit(id: string, transfer: TransferCommit): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.requireReceiving(id);
      if (record.lastSnapshotId === transfer.snapshotId) return record;
      if (transfer.parentSnapshotId !== record.lastSnapshotId) {
        throw new DomainError("CONFLICT",
          `the stream is incremental from ${transfer.parentSnapshotId ?? "nothing"}, but this replica's last snapshot is ${record.lastSnapshotId ?? "none"}`);
      }
      const name = streamName(id, transfer.snapshotId);
      await this.engine.receiveStream(record.poolId, name, { snapshotId: transfer.snapshotId, bytes: transfer.bytes, sha256: transfer.sha256 });
      await this.publish(record, transfer);
      await this.engine.removeStream(record.poolId, name);
      this.written.delete(`${id}/${transfer.snapshotId}`);
      const updated: ReplicationRecord = {
        ...record, lastSnapshotId: transfer.snapshotId, lastSnapshotTime: transfer.snapshotTime, lastSyncFinished: Date.now(),
        lastSyncBytes: transfer.bytes, totalBytes: record.totalBytes + transfer.bytes, lastError: null,
      };
      this.ctx.store.putReplication(updated);
      return updated;
    } finally {
      release();
    }
  }

  /** The received snapshot gets its record, the replica volume its data; the previous base goes. */
  private async publish(record: ReplicationRecord, transfer: TransferCommit): Promise<void> {
    const release = await this.ctx.jobs.lock.acquire([volumeLock(record.volumeId)]);
    try {
      const now = Date.now();
      const existing = this.ctx.store.getVolume(record.volumeId);
      const volume: VolumeRecord = existing === undefined
        ? {
          id: record.volumeId, poolId: record.poolId, name: record.name ?? record.volumeId, description: null, sizeBytes: transfer.volumeSize,
          thin: true, compression: "none", cacheMode: "writeback", maximumSnapshot: 1024, snapshotQuota: 0, state: "creating", originId: null,
          imageSource: null, volumeGroupId: null, ctime: now, mtime: now, createEventId: null,
        }
        : { ...existing, sizeBytes: transfer.volumeSize, mtime: now };
      const snapshot: SnapshotRecord = {
        id: transfer.snapshotId, volumeId: record.volumeId, poolId: record.poolId, name: replicationSnapshotName(record.id), description: null,
        sizeBytes: transfer.volumeSize, volumeGroupId: null, groupSnapshotId: null, state: "available", ctime: transfer.snapshotTime,
      };
      if (existing === undefined) this.ctx.store.insertVolume(volume);
      this.ctx.store.insertSnapshot(snapshot);
      // Nothing writes to a replica, so its data is swapped for the new snapshot's whole.
      if (existing !== undefined) await this.ctx.volumeEngine.deleteVolume(record.poolId, record.volumeId);
      await this.ctx.volumeEngine.volumeFromSnapshot(record.poolId, transfer.snapshotId, record.volumeId);
      this.ctx.store.updateVolume({ ...volume, state: "available" });
      if (record.lastSnapshotId !== null) await this.dropSnapshot(record.poolId, record.lastSnapshotId);
    } finally {
      release();
    }
  }

  async dropSnapshot(poolId: string, snapshotId: string): Promise<void> {
    if (this.ctx.store.getSnapshot(snapshotId) === undefined) return;
    await this.ctx.volumeEngine.deleteSnapshot(poolId, snapshotId);
    this.ctx.store.deleteSnapshot(snapshotId);
  }

  /** The replica becomes a writable, exportable volume; syncs into it are refused from now on. */
  async promote(id: string): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.requireTarget(id);
      if (record.promoted) return record;
      if (record.lastSnapshotId === null) throw new DomainError("CONFLICT", `replication ${id} has not synced yet: there is no replica to promote`);
      const promoted = { ...record, promoted: true };
      this.ctx.store.putReplication(promoted);
      this.ctx.log(`replication ${id}: replica ${record.volumeId} promoted`);
      return promoted;
    } finally {
      release();
    }
  }

  /**
   * The old source of a reversed relationship becomes its target: its volume is a replica again
   * (what was written after the shared snapshot is replaced by the first sync). Refused while the
   * volume is exported: its initiators would see the data change under them.
   */
  async demote(id: string, baseSnapshotId: string): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.ctx.store.getReplication(id);
      if (record === undefined) throw notFound("replication", id);
      if (record.role === "target") return record;
      if (record.lastSnapshotId !== baseSnapshotId) {
        throw new DomainError("CONFLICT", `this side's last synced snapshot is ${record.lastSnapshotId ?? "none"}, not ${baseSnapshotId}: no shared base to catch up from`, "baseSnapshotId");
      }
      if (this.ctx.store.getExport(record.volumeId) !== undefined) {
        throw new DomainError("CONFLICT", `volume ${record.volumeId} is exported here; unassign its initiators before it becomes a replica`);
      }
      if (record.pending !== null) {
        await this.engine.removeStream(record.poolId, streamName(id, record.pending.snapshotId));
        await this.dropSnapshot(record.poolId, record.pending.snapshotId);
      }
      const demoted: ReplicationRecord = { ...record, role: "target", peer: null, peerPoolId: null, promoted: false, pending: null, lastError: null, rpoSeconds: null };
      this.ctx.store.putReplication(demoted);
      this.ctx.log(`replication ${id}: volume ${record.volumeId} is now the replica of the reversed relationship`);
      return demoted;
    } finally {
      release();
    }
  }

  /** Ends the relationship here: the volume stays as an ordinary writable volume, the relationship's snapshot goes. */
  async release(record: ReplicationRecord): Promise<void> {
    if (record.lastSnapshotId !== null) await this.dropSnapshot(record.poolId, record.lastSnapshotId);
    for (const stale of this.ctx.store.listSnapshots({ volumeId: record.volumeId }).filter((s) => s.name === replicationSnapshotName(record.id))) {
      await this.dropSnapshot(record.poolId, stale.id);
    }
    this.ctx.store.deleteReplication(record.id);
  }
}
