/**
 * The target side of a replication: it records the relationship a source announces, takes the
 * bytes of each send stream (resumable: an upload continues at what arrived), and on commit
 * verifies the stream, receives it as a read-only snapshot and only then publishes it: the
 * snapshot's record, and the replica volume's data made from it. The replica is read-only until
 * promoted; a promoted replica is an ordinary volume that refuses further syncs.
 */
import { requireBackendSupports } from "./backend-features";
import type { Readable } from "node:stream";
import type { ReplicaAnnouncement, SyncCommit, TransferCommit } from "./commands";
import type { CoreContext } from "./context";
import { replicationLock, volumeLock } from "./context";
import { asDomainError, DomainError, notFound } from "./domain-error";
import type { PoolService } from "./pool-service";
import type { ReplicationEngine, SharedBase, TransferState } from "./replication-ports";
import type { ReplicatedVolume, ReplicationRecord, SnapshotRecord, VolumeRecord } from "./records";

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

/**
 * Refuses a change of a replicated group's membership, or its delete: a relationship carries
 * the members it was made with.
 */
export function requireGroupUnreplicated(ctx: CoreContext, groupId: string, what: string): void {
  const replication = ctx.store.listReplications().find((r) => r.volumeGroupId === groupId);
  if (replication !== undefined) {
    throw new DomainError("CONFLICT", `volume group ${groupId} is carried by replication ${replication.id}; it cannot ${what} until the replication is deleted`);
  }
}

/** Whether the relationship carries exactly these volumes (in any order). */
export function sameVolumes(record: ReplicationRecord, volumeIds: readonly string[]): boolean {
  const held = record.volumes.map((v) => v.volumeId).sort();
  return held.length === volumeIds.length && [...volumeIds].sort().every((id, i) => id === held[i]);
}

const volumeList = (record: ReplicationRecord): string => record.volumes.map((v) => v.volumeId).join(", ");

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
  accept(id: string, replica: ReplicaAnnouncement): ReplicationRecord {
    const existing = this.ctx.store.getReplication(id);
    if (existing !== undefined) {
      if (existing.role === "target" && sameVolumes(existing, replica.volumeIds)) return existing;
      throw new DomainError("ALREADY_EXISTS", `replication ${id} already exists here with other volumes or another role`);
    }
    requireBackendSupports(this.pools.requireUsable(replica.poolId, "poolId"), "replication", "poolId");
    replica.volumeIds.forEach((volumeId, i) => {
      if (this.ctx.store.getVolume(volumeId) !== undefined) {
        throw new DomainError("ALREADY_EXISTS", `volume ${volumeId} already exists on the target; a replica is made there, never over a volume`, `volumeIds.${i}`);
      }
    });
    if (replica.volumeGroupId !== null && this.ctx.store.getVolumeGroup(replica.volumeGroupId) !== undefined) {
      throw new DomainError("ALREADY_EXISTS", `volume group ${replica.volumeGroupId} already exists on the target`, "volumeGroupId");
    }
    const record: ReplicationRecord = {
      id, name: replica.name, description: null, role: "target", volumeGroupId: replica.volumeGroupId,
      volumes: replica.volumeIds.map((volumeId) => ({ volumeId, lastSnapshotId: null, pending: null })), poolId: replica.poolId, peer: null,
      peerPoolId: null, rpoSeconds: null, rateLimitBytesPerSecond: null, promoted: false, lastSnapshotTime: null, pendingSnapshotTime: null,
      lastSyncFinished: null, lastSyncBytes: 0, totalBytes: 0, lastError: null, ctime: Date.now(),
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

  /**
   * Verifies and receives every stream of a sync, then publishes them together: the replicas
   * move to the new point in time all at once or not at all.
   */
  async commit(id: string, sync: SyncCommit): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.requireReceiving(id);
      const transfers = this.matchTransfers(record, sync.transfers);
      if (transfers.every(({ volume, transfer }) => volume.lastSnapshotId === transfer.snapshotId)) return record;
      await this.receiveAll(record, transfers.map((t) => t.transfer));
      await this.publish(record, sync);
      let bytes = 0;
      for (const transfer of sync.transfers) {
        await this.engine.removeStream(record.poolId, streamName(id, transfer.snapshotId));
        this.written.delete(`${id}/${transfer.snapshotId}`);
        bytes += transfer.bytes;
      }
      const updated: ReplicationRecord = {
        ...record, volumes: transfers.map(({ volume, transfer }) => ({ ...volume, lastSnapshotId: transfer.snapshotId })),
        lastSnapshotTime: sync.snapshotTime, lastSyncFinished: Date.now(), lastSyncBytes: bytes, totalBytes: record.totalBytes + bytes, lastError: null,
      };
      this.ctx.store.putReplication(updated);
      return updated;
    } finally {
      release();
    }
  }

  /** Each of the relationship's volumes with its stream, which must follow on from the base held here. */
  private matchTransfers(record: ReplicationRecord, transfers: readonly TransferCommit[]): { volume: ReplicatedVolume; transfer: TransferCommit }[] {
    if (transfers.length !== record.volumes.length) {
      throw new DomainError("INVALID_ARGUMENT", `replication ${record.id} carries ${record.volumes.length} volume(s); the commit has ${transfers.length} stream(s)`, "transfers");
    }
    return record.volumes.map((volume) => {
      const transfer = transfers.find((t) => t.volumeId === volume.volumeId);
      if (transfer === undefined) throw new DomainError("INVALID_ARGUMENT", `the commit has no stream of volume ${volume.volumeId}`, "transfers");
      if (transfer.snapshotId !== volume.lastSnapshotId && transfer.parentSnapshotId !== volume.lastSnapshotId) {
        throw new DomainError("CONFLICT",
          `the stream of volume ${volume.volumeId} is incremental from ${transfer.parentSnapshotId ?? "nothing"}, but its replica's last snapshot is ${volume.lastSnapshotId ?? "none"}`);
      }
      return { volume, transfer };
    });
  }

  /**
   * Receives each stream as a read-only snapshot. When one fails, the ones received before it
   * go too, and so does the failed stream: it cannot be resumed, so the next sync sends it whole
   * (the others stay, and are not sent again).
   */
  private async receiveAll(record: ReplicationRecord, transfers: readonly TransferCommit[]): Promise<void> {
    const received: string[] = [];
    for (const t of transfers) {
      const name = streamName(record.id, t.snapshotId);
      try {
        await this.engine.receiveStream(record.poolId, name, { snapshotId: t.snapshotId, bytes: t.bytes, sha256: t.sha256 });
        received.push(t.snapshotId);
      } catch (error) {
        await this.engine.removeStream(record.poolId, name);
        this.written.delete(`${record.id}/${t.snapshotId}`);
        for (const snapshotId of received) await this.ctx.volumeEngine.deleteSnapshot(record.poolId, snapshotId).catch(() => undefined);
        // A stream that does not verify is the request's problem (4xx), not this server's.
        throw asDomainError(error);
      }
    }
  }

  /**
   * The received snapshots get their records and the replicas their data (a group's replicas
   * also their group); the previous bases go.
   */
  private async publish(record: ReplicationRecord, sync: SyncCommit): Promise<void> {
    const release = await this.ctx.jobs.lock.acquire(record.volumes.map((v) => volumeLock(v.volumeId)));
    try {
      const groupId = record.volumeGroupId;
      if (groupId !== null && this.ctx.store.getVolumeGroup(groupId) === undefined) {
        this.ctx.store.insertVolumeGroup({ id: groupId, name: record.name, description: null, maximumSnapshot: 1024, snapshotRotation: false, ctime: Date.now() });
      }
      for (const transfer of sync.transfers) await this.publishVolume(record, transfer, sync.snapshotTime);
      for (const volume of record.volumes) {
        if (volume.lastSnapshotId !== null) await this.dropSnapshot(record.poolId, volume.lastSnapshotId);
      }
    } finally {
      release();
    }
  }

  private async publishVolume(record: ReplicationRecord, transfer: TransferCommit, snapshotTime: number): Promise<void> {
    const now = Date.now();
    const existing = this.ctx.store.getVolume(transfer.volumeId);
    const volume: VolumeRecord = existing === undefined
      ? {
        id: transfer.volumeId, poolId: record.poolId, name: record.volumes.length === 1 ? record.name ?? transfer.volumeId : transfer.volumeId,
        description: null, sizeBytes: transfer.volumeSize, thin: true, compression: "none", cacheMode: "writeback", maximumSnapshot: 1024, snapshotQuota: 0,
        state: "creating", originId: null, imageSource: null, volumeGroupId: record.volumeGroupId, ctime: now, mtime: now, createEventId: null,
      }
      : { ...existing, sizeBytes: transfer.volumeSize, mtime: now };
    const snapshot: SnapshotRecord = {
      id: transfer.snapshotId, volumeId: transfer.volumeId, poolId: record.poolId, name: replicationSnapshotName(record.id), description: null,
      sizeBytes: transfer.volumeSize, volumeGroupId: null, groupSnapshotId: null, state: "available", ctime: snapshotTime,
    };
    if (existing === undefined) this.ctx.store.insertVolume(volume);
    this.ctx.store.insertSnapshot(snapshot);
    // Nothing writes to a replica, so its data is swapped for the new snapshot's whole.
    if (existing !== undefined) await this.ctx.volumeEngine.deleteVolume(record.poolId, transfer.volumeId);
    await this.ctx.volumeEngine.volumeFromSnapshot(record.poolId, transfer.snapshotId, transfer.volumeId);
    this.ctx.store.updateVolume({ ...volume, state: "available" });
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
      if (record.lastSnapshotTime === null) throw new DomainError("CONFLICT", `replication ${id} has not synced yet: there is no replica to promote`);
      const promoted = { ...record, promoted: true };
      this.ctx.store.putReplication(promoted);
      this.ctx.log(`replication ${id}: replica volume(s) ${volumeList(record)} promoted`);
      return promoted;
    } finally {
      release();
    }
  }

  /**
   * The old source of a reversed relationship becomes its target: its volumes are replicas again
   * (what was written after the shared snapshots is replaced by the first sync). Refused while a
   * volume is exported: its initiators would see the data change under them.
   */
  async demote(id: string, bases: readonly SharedBase[]): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.ctx.store.getReplication(id);
      if (record === undefined) throw notFound("replication", id);
      if (record.role === "target") return record;
      for (const volume of record.volumes) {
        const base = bases.find((b) => b.volumeId === volume.volumeId);
        if (base === undefined || volume.lastSnapshotId !== base.snapshotId) {
          throw new DomainError("CONFLICT",
            `this side's last synced snapshot of volume ${volume.volumeId} is ${volume.lastSnapshotId ?? "none"}, not ${base?.snapshotId ?? "named"}: no shared base to catch up from`, "bases");
        }
        if (this.ctx.store.getExport(volume.volumeId) !== undefined) {
          throw new DomainError("CONFLICT", `volume ${volume.volumeId} is exported here; unassign its initiators before it becomes a replica`);
        }
      }
      await this.dropPending(record);
      const demoted: ReplicationRecord = {
        ...record, role: "target", peer: null, peerPoolId: null, promoted: false, lastError: null, rpoSeconds: null, pendingSnapshotTime: null,
        volumes: record.volumes.map((v) => ({ ...v, pending: null })),
      };
      this.ctx.store.putReplication(demoted);
      this.ctx.log(`replication ${id}: volume(s) ${volumeList(record)} are now the replicas of the reversed relationship`);
      return demoted;
    } finally {
      release();
    }
  }

  /** Removes a pending sync's streams and snapshots (the relationship ends or turns round). */
  async dropPending(record: ReplicationRecord): Promise<void> {
    for (const volume of record.volumes) {
      if (volume.pending === null) continue;
      await this.engine.removeStream(record.poolId, streamName(record.id, volume.pending.snapshotId));
      await this.dropSnapshot(record.poolId, volume.pending.snapshotId);
    }
  }

  /** Ends the relationship here: the volume stays as an ordinary writable volume, the relationship's snapshot goes. */
  async release(record: ReplicationRecord): Promise<void> {
    for (const volume of record.volumes) {
      for (const held of this.ctx.store.listSnapshots({ volumeId: volume.volumeId }).filter((s) => s.name === replicationSnapshotName(record.id))) {
        await this.dropSnapshot(record.poolId, held.id);
      }
    }
    this.ctx.store.deleteReplication(record.id);
  }
}
