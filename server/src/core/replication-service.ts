/**
 * Replication of a volume to another DPL server, on the source side. A sync takes a read-only
 * snapshot of the volume, writes its send stream (incremental from the last snapshot both sides
 * hold) to the pool's scratch directory, uploads it to the target from whatever the target
 * already holds (so a sync cut short by a lost link or a restart resumes without resending),
 * then asks the target to commit: verify, receive, publish. Only then does the source let the
 * old base go. Failover is the target's promote; failback is a reverse, after which the promoted
 * side is the source and the old source catches up incrementally from the shared snapshot.
 */
import type { NewReplication, ReplicationChanges, PeerEndpoint } from "./commands";
import type { CoreContext } from "./context";
import { replicationLock, volumeLock } from "./context";
import { asDomainError, DomainError, notFound } from "./domain-error";
import { newHexId, ReuseEvent, type StartedJob } from "./jobs";
import { EngineError } from "./ports";
import { ReplicaService, replicationSnapshotName, streamName } from "./replica-service";
import type { PeerAddress, PeerLink, ReplicationEngine } from "./replication-ports";
import type { PendingTransfer, ReplicationRecord, SnapshotRecord } from "./records";

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
    const release = await this.ctx.jobs.lock.acquire([replicationLock(id), volumeLock(wanted.volumeId)]);
    try {
      const existing = this.ctx.store.getReplication(id);
      if (existing !== undefined) {
        const same = existing.role === "source" && existing.volumeId === wanted.volumeId && existing.peer?.url === peer.url && existing.peerPoolId === wanted.targetPoolId;
        if (!same) throw new DomainError("ALREADY_EXISTS", `replication ${id} already exists with another volume or target`);
        return existing;
      }
      const volume = this.ctx.store.getVolume(wanted.volumeId);
      if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${wanted.volumeId} does not exist`, "volumeId");
      const held = this.ctx.store.findReplicationOfVolume(wanted.volumeId);
      if (held !== undefined) throw new DomainError("CONFLICT", `volume ${wanted.volumeId} is already held by replication ${held.id}`, "volumeId");
      await this.link.accept(peer, id, { volumeId: volume.id, poolId: wanted.targetPoolId, name: wanted.name ?? null })
        .catch((e: unknown) => { throw peerFailure(e, "the target server refused the replication", "target"); });
      const record: ReplicationRecord = {
        id, name: wanted.name ?? null, description: wanted.description ?? null, role: "source", volumeId: volume.id, poolId: volume.poolId,
        peer, peerPoolId: wanted.targetPoolId, rpoSeconds: wanted.rpoSeconds ?? null, rateLimitBytesPerSecond: wanted.rateLimitBytesPerSecond ?? null,
        promoted: false, lastSnapshotId: null, lastSnapshotTime: null, lastSyncFinished: null, lastSyncBytes: 0, totalBytes: 0,
        lastError: null, pending: null, ctime: Date.now(),
      };
      this.ctx.store.putReplication(record);
      return record;
    } finally {
      release();
    }
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
    if (record.pending === null) {
      await this.dropStraySnapshots(record);
      record = { ...record, pending: await this.writeStream(record) };
      this.ctx.store.putReplication(record);
    }
    const pending = record.pending;
    if (pending === null) return;
    const name = streamName(record.id, pending.snapshotId);
    const held = await this.link.transferState(peer, record.id, pending.snapshotId);
    if (held.receivedBytes > pending.bytes) throw new DomainError("CONFLICT", `the target holds ${held.receivedBytes} bytes of a ${pending.bytes}-byte stream`);
    const sent = held.receivedBytes < pending.bytes
      ? await this.link.upload(peer, record.id, pending.snapshotId, this.engine.streamPath(record.poolId, name), held.receivedBytes, record.rateLimitBytesPerSecond)
      : 0;
    const snapshot = this.ctx.store.getSnapshot(pending.snapshotId);
    await this.link.commit(peer, record.id, { ...pending, volumeSize: snapshot?.sizeBytes ?? this.ctx.store.getVolume(record.volumeId)?.sizeBytes ?? 0 });
    // The target holds the new snapshot now: the old base is needed on neither side.
    if (record.lastSnapshotId !== null) await this.replicas.dropSnapshot(record.poolId, record.lastSnapshotId);
    await this.engine.removeStream(record.poolId, name);
    const latest = this.ctx.store.getReplication(record.id) ?? record;
    this.ctx.store.putReplication({
      ...latest, lastSnapshotId: pending.snapshotId, lastSnapshotTime: pending.snapshotTime, lastSyncFinished: Date.now(),
      lastSyncBytes: sent, totalBytes: latest.totalBytes + sent, lastError: null, pending: null,
    });
    this.ctx.log(`replication ${record.id}: synced snapshot ${pending.snapshotId} (${sent} bytes sent, stream ${pending.bytes})`);
  }

  /** A snapshot of this relationship that is neither the base nor being sent: what a sync cut short while writing its stream left. */
  private async dropStraySnapshots(record: ReplicationRecord): Promise<void> {
    const name = replicationSnapshotName(record.id);
    for (const stray of this.ctx.store.listSnapshots({ volumeId: record.volumeId }).filter((s) => s.name === name && s.id !== record.lastSnapshotId)) {
      await this.engine.removeStream(record.poolId, streamName(record.id, stray.id));
      await this.replicas.dropSnapshot(record.poolId, stray.id);
    }
  }

  /** The volume's snapshot of now, and its send stream on disk. */
  private async writeStream(record: ReplicationRecord): Promise<PendingTransfer> {
    const snapshotId = newHexId();
    const snapshotTime = Date.now();
    const release = await this.ctx.jobs.lock.acquire([volumeLock(record.volumeId)]);
    try {
      const volume = this.ctx.store.getVolume(record.volumeId);
      if (volume?.state !== "available") throw new DomainError("BUSY", `volume ${record.volumeId} is ${volume?.state ?? "gone"}`);
      const snapshot: SnapshotRecord = {
        id: snapshotId, volumeId: volume.id, poolId: volume.poolId, name: replicationSnapshotName(record.id), description: null,
        sizeBytes: volume.sizeBytes, volumeGroupId: null, groupSnapshotId: null, state: "creating", ctime: snapshotTime,
      };
      this.ctx.store.insertSnapshot(snapshot);
      await this.ctx.volumeEngine.createSnapshot(volume.poolId, volume.id, snapshotId);
      this.ctx.store.setSnapshotState(snapshotId, "available");
    } finally {
      release();
    }
    const stream = await this.engine.sendToFile(record.poolId, snapshotId, record.lastSnapshotId, streamName(record.id, snapshotId));
    return { snapshotId, parentSnapshotId: record.lastSnapshotId, snapshotTime, bytes: stream.bytes, sha256: stream.sha256 };
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
      if (record.lastSnapshotId === null) throw new DomainError("CONFLICT", `replication ${id} has no snapshot both sides hold`);
      const { poolId } = await this.link.demote(peer, id, record.lastSnapshotId)
        .catch((e: unknown) => { throw peerFailure(e, "the old source refused to become the target", "peer"); });
      this.ctx.store.putReplication({ ...record, role: "source", peer, peerPoolId: poolId, promoted: false, pending: null, lastError: null });
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
        if (record.pending !== null) {
          await this.engine.removeStream(record.poolId, streamName(id, record.pending.snapshotId));
          await this.replicas.dropSnapshot(record.poolId, record.pending.snapshotId);
        }
      }
      await this.replicas.release(record);
      return record;
    } finally {
      release();
    }
  }
}
