/**
 * Replication of a volume to another DPL server, on the source side. A sync takes a read-only
 * snapshot of the volume, writes its send stream (incremental from the last snapshot both sides
 * hold) to the pool's scratch directory, uploads it to the target from whatever the target
 * already holds (so a sync cut short by a lost link or a restart resumes without resending),
 * then asks the target to commit: verify, receive, publish. Only then does the source let the
 * old base go. Failover is the target's promote; failback is a reverse, after which the promoted
 * side is the source and the old source catches up incrementally from the shared snapshot.
 */
import { requireBackendSupports } from "./backend-features";
import type { NewReplication, PeerEndpoint, ReplicatedObject, ReplicationChanges, TransferCommit } from "./commands";
import type { CoreContext } from "./context";
import { replicationLock, volumeLock } from "./context";
import { asDomainError, DomainError, notFound } from "./domain-error";
import { newHexId, ReuseEvent, type StartedJob } from "./jobs";
import { EngineError } from "./ports";
import { ReplicaService, replicationSnapshotName, sameVolumes, streamName } from "./replica-service";
import type { PeerAddress, PeerLink, ReplicationEngine } from "./replication-ports";
import type { PendingTransfer, ReplicatedVolume, ReplicationRecord, SnapshotRecord, VolumeRecord } from "./records";

export interface ReplicationView {
  record: ReplicationRecord;
  state: "idle" | "syncing" | "error" | "replica" | "promoted";
  lagSeconds: number | null;
}

function addressOf(endpoint: PeerEndpoint): NonNullable<ReplicationRecord["peer"]> {
  return { url: endpoint.url.replace(/\/+$/, ""), username: endpoint.username, password: endpoint.password, caCertificate: endpoint.caCertificate ?? null };
}

/**
 * A peer's refusal or silence while a relationship is set up or reversed: the request named that
 * peer, so it is the request's to fix (a 4xx naming the peer), whatever the peer said.
 */
function peerFailure(error: unknown, what: string, field: string): DomainError {
  const code = error instanceof EngineError && error.code === "NOT_FOUND" ? "NOT_FOUND" : "INVALID_ARGUMENT";
  return new DomainError(code, `${what}: ${asDomainError(error).message}`, field);
}

export class ReplicationService {
  readonly replicas: ReplicaService;
  private readonly syncing = new Set<string>();

  constructor(
    private readonly ctx: CoreContext,
    replicas: ReplicaService,
    private readonly engine: ReplicationEngine,
    private readonly link: PeerLink,
  ) {
    this.replicas = replicas;
  }

  list(): ReplicationRecord[] {
    return this.ctx.store.listReplications();
  }

  require(id: string): ReplicationRecord {
    const record = this.ctx.store.getReplication(id);
    if (record === undefined) throw notFound("replication", id);
    return record;
  }

  view(id: string, now = Date.now()): ReplicationView {
    return this.viewOf(this.require(id), now);
  }

  viewOf(record: ReplicationRecord, now = Date.now()): ReplicationView {
    const id = record.id;
    const state = record.role === "target"
      ? (record.promoted ? "promoted" : "replica")
      : this.syncing.has(id) ? "syncing" : record.lastError !== null ? "error" : "idle";
    const lagSeconds = record.lastSnapshotTime === null ? null : Math.max(0, Math.round((now - record.lastSnapshotTime) / 1000));
    return { record, state, lagSeconds };
  }

  isSyncing(id: string): boolean {
    return this.syncing.has(id);
  }

  /** Records the relationship here and on the target (which checks its pool); a repeat of the same request changes nothing. */
  async create(id: string, wanted: NewReplication): Promise<ReplicationRecord> {
    const peer = addressOf(wanted.target);
    const volumes = this.volumesOf(wanted.source);
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id), ...volumes.map((v) => volumeLock(v.id))]);
    try {
      const existing = this.ctx.store.getReplication(id);
      if (existing !== undefined) {
        const same = existing.role === "source" && sameVolumes(existing, volumes.map((v) => v.id)) && existing.peer?.url === peer.url
          && existing.peerPoolId === wanted.targetPoolId;
        if (!same) throw new DomainError("ALREADY_EXISTS", `replication ${id} already exists with other volumes or another target`);
        return existing;
      }
      const field = "volumeId" in wanted.source ? "source.volumeId" : "source.volumeGroupId";
      for (const volume of volumes) {
        const held = this.ctx.store.findReplicationOfVolume(volume.id);
        if (held !== undefined) throw new DomainError("CONFLICT", `volume ${volume.id} is already held by replication ${held.id}`, field);
      }
      const volumeGroupId = "volumeGroupId" in wanted.source ? wanted.source.volumeGroupId : null;
      const announcement = { volumeIds: volumes.map((v) => v.id), volumeGroupId, poolId: wanted.targetPoolId, name: wanted.name ?? null };
      await this.link.accept(peer, id, announcement)
        .catch((e: unknown) => { throw peerFailure(e, "the target server refused the replication", "target"); });
      const record: ReplicationRecord = {
        id, name: wanted.name ?? null, description: wanted.description ?? null, role: "source", volumeGroupId,
        volumes: volumes.map((v) => ({ volumeId: v.id, lastSnapshotId: null, pending: null })), poolId: volumes[0]?.poolId ?? "",
        peer, peerPoolId: wanted.targetPoolId, rpoSeconds: wanted.rpoSeconds ?? null, rateLimitBytesPerSecond: wanted.rateLimitBytesPerSecond ?? null,
        promoted: false, lastSnapshotTime: null, pendingSnapshotTime: null, lastSyncFinished: null, lastSyncBytes: 0, totalBytes: 0,
        lastError: null, ctime: Date.now(),
      };
      this.ctx.store.putReplication(record);
      return record;
    } finally {
      release();
    }
  }

  /** The volume, or the group's members (at least one, all in one pool: a sync's streams are written there). */
  private volumesOf(source: ReplicatedObject): VolumeRecord[] {
    if ("volumeId" in source) {
      const volume = this.ctx.store.getVolume(source.volumeId);
      if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${source.volumeId} does not exist`, "source.volumeId");
      this.requireReplicable(volume.poolId, "source.volumeId");
      return [volume];
    }
    const groupId = source.volumeGroupId;
    if (this.ctx.store.getVolumeGroup(groupId) === undefined) throw new DomainError("NOT_FOUND", `volume group ${groupId} does not exist`, "source.volumeGroupId");
    const members = this.ctx.store.listVolumes().filter((v) => v.volumeGroupId === groupId);
    if (members.length === 0) throw new DomainError("CONFLICT", `volume group ${groupId} has no members to replicate`, "source.volumeGroupId");
    const pools = [...new Set(members.map((v) => v.poolId))];
    if (pools.length > 1) {
      throw new DomainError("CONFLICT", `the members of volume group ${groupId} are in pools ${pools.join(", ")}; a replicated group's members share one pool`, "source.volumeGroupId");
    }
    for (const poolId of pools) this.requireReplicable(poolId, "source.volumeGroupId");
    return members;
  }

  private requireReplicable(poolId: string, field: string): void {
    const pool = this.ctx.store.getPool(poolId);
    if (pool !== undefined) requireBackendSupports(pool, "replication", field);
  }

  async changeSettings(id: string, changes: ReplicationChanges): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.require(id);
      if (changes.target !== undefined && addressOf(changes.target).url !== record.peer?.url) {
        throw new DomainError("INVALID_ARGUMENT", "a replication's target URL cannot change; make a new replication", "target.url");
      }
      const updated: ReplicationRecord = {
        ...record,
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.rpoSeconds === undefined ? {} : { rpoSeconds: changes.rpoSeconds }),
        ...(changes.rateLimitBytesPerSecond === undefined ? {} : { rateLimitBytesPerSecond: changes.rateLimitBytesPerSecond }),
        ...(changes.target === undefined ? {} : { peer: addressOf(changes.target) }),
      };
      this.ctx.store.putReplication(updated);
      return updated;
    } finally {
      release();
    }
  }

  /** Starts a sync (202 + event); while one runs, a request answers with its event. */
  sync(id: string): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [replicationLock(id)],
      objectType: "replication",
      objectId: id,
      operation: "sync",
      admit: () => {
        const record = this.require(id);
        if (record.role !== "source") throw new DomainError("CONFLICT", `this server holds the replica of replication ${id}; syncs start on the source`);
        const running = this.ctx.store.findLatestEvent(id, "sync");
        if (running?.status === "Processing" && this.ctx.jobs.isRunning(running.id)) return new ReuseEvent(running);
        return record;
      },
      work: async (record) => {
        this.syncing.add(id);
        try {
          await this.runSync(record);
        } catch (error) {
          const latest = this.ctx.store.getReplication(id);
          if (latest !== undefined) this.ctx.store.putReplication({ ...latest, lastError: asDomainError(error).message });
          throw error;
        } finally {
          this.syncing.delete(id);
        }
      },
      // What a failed sync leaves is kept on purpose: a written stream is resumed by the next sync.
      undo: () => undefined,
    });
  }

  private peerOf(record: ReplicationRecord): PeerAddress {
    if (record.peer === null) throw new DomainError("CONFLICT", `replication ${record.id} has no target to send to`);
    return record.peer;
  }

  private async runSync(start: ReplicationRecord): Promise<void> {
    let record = start;
    const peer = this.peerOf(record);
    if (record.pendingSnapshotTime === null) {
      await this.dropStraySnapshots(record);
      record = await this.writeStreams(record);
      this.ctx.store.putReplication(record);
    }
    const snapshotTime = record.pendingSnapshotTime;
    if (snapshotTime === null) return;
    let sent = 0;
    const transfers: TransferCommit[] = [];
    for (const volume of record.volumes) {
      const pending = volume.pending;
      if (pending === null) throw new DomainError("INTERNAL", `replication ${record.id}: volume ${volume.volumeId} has no stream in the pending sync`);
      sent += await this.uploadRest(record, peer, pending);
      const size = this.ctx.store.getSnapshot(pending.snapshotId)?.sizeBytes ?? this.ctx.store.getVolume(volume.volumeId)?.sizeBytes ?? 0;
      transfers.push({ volumeId: volume.volumeId, ...pending, volumeSize: size });
    }
    await this.link.commit(peer, record.id, { snapshotTime, transfers });
    // The target holds the new snapshots now: the old bases are needed on neither side.
    for (const volume of record.volumes) {
      if (volume.lastSnapshotId !== null) await this.replicas.dropSnapshot(record.poolId, volume.lastSnapshotId);
      if (volume.pending !== null) await this.engine.removeStream(record.poolId, streamName(record.id, volume.pending.snapshotId));
    }
    const latest = this.ctx.store.getReplication(record.id) ?? record;
    this.ctx.store.putReplication({
      ...latest, volumes: record.volumes.map((v) => ({ volumeId: v.volumeId, lastSnapshotId: v.pending?.snapshotId ?? v.lastSnapshotId, pending: null })),
      lastSnapshotTime: snapshotTime, pendingSnapshotTime: null, lastSyncFinished: Date.now(),
      lastSyncBytes: sent, totalBytes: latest.totalBytes + sent, lastError: null,
    });
    this.ctx.log(`replication ${record.id}: synced ${record.volumes.length} volume(s) of ${new Date(snapshotTime).toISOString()} (${sent} bytes sent)`);
  }

  /** Sends what the target does not hold yet of one stream; resolves with the bytes sent. */
  private async uploadRest(record: ReplicationRecord, peer: PeerAddress, pending: PendingTransfer): Promise<number> {
    const held = await this.link.transferState(peer, record.id, pending.snapshotId);
    if (held.receivedBytes > pending.bytes) throw new DomainError("CONFLICT", `the target holds ${held.receivedBytes} bytes of a ${pending.bytes}-byte stream`);
    if (held.receivedBytes === pending.bytes) return 0;
    const file = this.engine.streamPath(record.poolId, streamName(record.id, pending.snapshotId));
    return this.link.upload(peer, record.id, pending.snapshotId, file, held.receivedBytes, record.rateLimitBytesPerSecond);
  }

  /** A snapshot of this relationship that is no volume's base: what a sync cut short while writing its streams left. */
  private async dropStraySnapshots(record: ReplicationRecord): Promise<void> {
    const name = replicationSnapshotName(record.id);
    const bases = new Set(record.volumes.map((v) => v.lastSnapshotId));
    for (const volume of record.volumes) {
      for (const stray of this.ctx.store.listSnapshots({ volumeId: volume.volumeId }).filter((s) => s.name === name && !bases.has(s.id))) {
        await this.engine.removeStream(record.poolId, streamName(record.id, stray.id));
        await this.replicas.dropSnapshot(record.poolId, stray.id);
      }
    }
  }

  /**
   * Snapshots of every volume at one instant (exported ones hold I/O meanwhile, as a group
   * snapshot does), then each one's send stream on disk.
   */
  private async writeStreams(record: ReplicationRecord): Promise<ReplicationRecord> {
    const snapshotTime = Date.now();
    const taken = await this.takeSnapshots(record, snapshotTime);
    const volumes: ReplicatedVolume[] = [];
    for (const [i, volume] of record.volumes.entries()) {
      const snapshotId = taken[i]?.id ?? "";
      const stream = await this.engine.sendToFile(record.poolId, snapshotId, volume.lastSnapshotId, streamName(record.id, snapshotId));
      volumes.push({ ...volume, pending: { snapshotId, parentSnapshotId: volume.lastSnapshotId, bytes: stream.bytes, sha256: stream.sha256 } });
    }
    return { ...record, volumes, pendingSnapshotTime: snapshotTime };
  }

  private async takeSnapshots(record: ReplicationRecord, snapshotTime: number): Promise<SnapshotRecord[]> {
    const ids = record.volumes.map((v) => v.volumeId);
    const release = await this.ctx.jobs.lock.acquire(ids.map(volumeLock));
    const taken: SnapshotRecord[] = [];
    try {
      for (const id of ids) {
        const volume = this.ctx.store.getVolume(id);
        if (volume?.state !== "available") throw new DomainError("BUSY", `volume ${id} is ${volume?.state ?? "gone"}`);
        taken.push({
          id: newHexId(), volumeId: volume.id, poolId: volume.poolId, name: replicationSnapshotName(record.id), description: null,
          sizeBytes: volume.sizeBytes, volumeGroupId: null, groupSnapshotId: null, state: "creating", ctime: snapshotTime,
        });
      }
      for (const snapshot of taken) this.ctx.store.insertSnapshot(snapshot);
      const tids = ids.flatMap((id) => this.ctx.store.getExport(id)?.tid ?? []);
      await this.ctx.targetEngine.withIoPaused(tids, async () => {
        for (const snapshot of taken) await this.ctx.volumeEngine.createSnapshot(snapshot.poolId, snapshot.volumeId, snapshot.id);
      });
      for (const snapshot of taken) this.ctx.store.setSnapshotState(snapshot.id, "available");
      return taken;
    } catch (error) {
      for (const snapshot of taken) await this.replicas.dropSnapshot(snapshot.poolId, snapshot.id).catch(() => undefined);
      throw error;
    } finally {
      release();
    }
  }

  /**
   * On a promoted target: the old source (at `peer`) becomes the target, and this side the
   * source, which starts a sync at once (incremental from the snapshot both still hold).
   */
  async reverse(id: string, endpoint: PeerEndpoint): Promise<StartedJob> {
    const peer = addressOf(endpoint);
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.require(id);
      if (record.role !== "target" || !record.promoted) {
        throw new DomainError("CONFLICT", `replication ${id} is reversed from its promoted target; here it is ${record.role === "source" ? "the source" : "an unpromoted replica"}`);
      }
      const bases = record.volumes.flatMap((v) => v.lastSnapshotId === null ? [] : [{ volumeId: v.volumeId, snapshotId: v.lastSnapshotId }]);
      if (bases.length !== record.volumes.length) throw new DomainError("CONFLICT", `replication ${id} has no snapshot both sides hold`);
      const { poolId } = await this.link.demote(peer, id, bases)
        .catch((e: unknown) => { throw peerFailure(e, "the old source refused to become the target", "peer"); });
      this.ctx.store.putReplication({ ...record, role: "source", peer, peerPoolId: poolId, promoted: false, pendingSnapshotTime: null, lastError: null });
      this.ctx.log(`replication ${id}: reversed; this server is the source now, ${peer.url} the target`);
    } finally {
      release();
    }
    return this.sync(id);
  }

  /** Ends the relationship on both sides (the target as far as it answers); both volumes stay. */
  async delete(id: string): Promise<ReplicationRecord> {
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id)]);
    try {
      const record = this.require(id);
      if (record.role === "source" && record.peer !== null) {
        await this.link.release(record.peer, id).catch((e: unknown) => {
          this.ctx.log(`replication ${id}: the target did not take the release (${asDomainError(e).message}); its replica stays read-only until promoted`);
        });
        await this.replicas.dropPending(record);
      }
      await this.replicas.release(record);
      return record;
    } finally {
      release();
    }
  }
}
