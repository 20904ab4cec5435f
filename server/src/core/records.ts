/**
 * What the server remembers about each object: the rows of the metadata store as core sees them.
 * Times are milliseconds since the epoch (DPL's `ctime`).
 */
import type { CacheMode, CompletionStatus, Compression, ErrorCode, ImageSource, RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { CephConnection, PoolBackendKind, PoolDeviceRecord } from "./ports";

export type ObjectState = "creating" | "available" | "deleting" | "error";

export interface PoolRecord {
  id: string;
  name: string;
  description: string | null;
  raid: RaidLevel;
  compression: Compression;
  maxOversubscription: number | null;
  state: ObjectState;
  ctime: number;
  devices: PoolDeviceRecord[];
  /** btrfs: the devices above hold the data; rbd: images in a Ceph pool do (devices is empty). */
  backend: PoolBackendKind;
  /** How to reach the Ceph cluster (rbd pools only). */
  ceph: CephConnection | null;
}

/** The settings of a pool that change in place; an absent key is left as it is. */
export type PoolSettingsChange = Partial<Pick<PoolRecord, "name" | "description" | "compression" | "maxOversubscription" | "raid">> & {
  /** Accepts converting to raid5/raid6 (their write hole). */
  forceRaid56?: boolean;
};

/** What the last scrub of a pool found: errors by kind, and what it repaired. */
export interface ScrubRecord {
  started: number;
  finished: number;
  bytesScrubbed: number;
  /** Checksum, read, verify and superblock errors. */
  errorsFound: number;
  csumErrors: number;
  readErrors: number;
  correctedErrors: number;
  uncorrectableErrors: number;
}

/** What the last dedupe of a pool saved. */
export interface DedupeRecord {
  started: number;
  finished: number;
  usedBytesBefore: number;
  usedBytesAfter: number;
  bytesSaved: number;
  filesScanned: number;
}

/** The last result kept per maintenance operation. */
export interface MaintenanceResults {
  scrub: ScrubRecord;
  dedupe: DedupeRecord;
}

export interface VolumeRecord {
  id: string;
  poolId: string;
  name: string;
  description: string | null;
  sizeBytes: number;
  thin: boolean;
  compression: Compression;
  cacheMode: CacheMode;
  maximumSnapshot: number;
  snapshotQuota: number;
  state: ObjectState;
  /** The snapshot (copy/spawn) or volume (clone) this volume was made from. */
  originId: string | null;
  /** The image file or URL, as the request named it, this volume was written from (else null). */
  imageSource: ImageSource | null;
  volumeGroupId: string | null;
  ctime: number;
  mtime: number;
  /** Event of the operation that made the volume (idempotent retries answer with it). */
  createEventId: string | null;
}

export interface SnapshotRecord {
  id: string;
  /** The volume it was taken of; kept after that volume is deleted (snapshots outlive it). */
  volumeId: string;
  poolId: string;
  name: string;
  description: string | null;
  sizeBytes: number;
  volumeGroupId: string | null;
  groupSnapshotId: string | null;
  state: ObjectState;
  ctime: number;
}

export interface ChapSecretRecord {
  username: string;
  secret: string;
}

export interface ExportRecord {
  volumeId: string;
  tid: number;
  iqn: string;
  lun: number;
  logicalUnitName: string;
  /** Lower-cased initiator IQNs. */
  initiators: string[];
  chap: ChapSecretRecord | null;
  mutualChap: ChapSecretRecord | null;
  ctime: number;
}

export interface TargetRecord {
  id: string;
  protocol: "iscsi" | "fc";
  name: string;
  description: string | null;
  address: string;
  ctime: number;
}

export interface VolumeGroupRecord {
  id: string;
  name: string | null;
  description: string | null;
  maximumSnapshot: number;
  snapshotRotation: boolean;
  ctime: number;
}

export interface GroupSnapshotRecord {
  id: string;
  groupId: string;
  name: string | null;
  description: string | null;
  /** Member volume id → the member snapshot taken of it. */
  members: Record<string, string>;
  ctime: number;
}

export type EventObjectType = "pool" | "volume" | "volume_group" | "target" | "system" | "image" | "replication";

export interface EventRecord {
  id: string;
  objectType: EventObjectType;
  objectId: string;
  operation: string;
  status: CompletionStatus;
  percent: number;
  errorCode: ErrorCode | null;
  errorMessage: string | null;
  started: number;
  finished: number | null;
}

/** A send stream made on the source and not yet committed on the target (resumable). */
export interface PendingTransfer {
  snapshotId: string;
  parentSnapshotId: string | null;
  bytes: number;
  sha256: string;
}

/** One volume a relationship carries: its base on both sides and the stream of a sync under way. */
export interface ReplicatedVolume {
  /** The same id on both sides. */
  volumeId: string;
  /** The newest snapshot of it both sides hold (the next stream's parent). */
  lastSnapshotId: string | null;
  pending: PendingTransfer | null;
}

/**
 * One side of a replication relationship. Both servers keep one under the same id: the source
 * (its volumes are sent) and the target (its volumes are the replicas, read-only until promoted).
 * A relationship carries one volume, or every member of a volume group: a sync snapshots them
 * all at one instant and the target publishes them together, so the replicas share a point in time.
 */
export interface ReplicationRecord {
  id: string;
  name: string | null;
  description: string | null;
  role: "source" | "target";
  /** The group whose members `volumes` are (the same id on both sides); null: one volume. */
  volumeGroupId: string | null;
  volumes: ReplicatedVolume[];
  poolId: string;
  /** How to reach the other side; null on a target (it is only ever called). */
  peer: { url: string; username: string; password: string; caCertificate: string | null } | null;
  /** On a source: the target's pool. */
  peerPoolId: string | null;
  rpoSeconds: number | null;
  rateLimitBytesPerSecond: number | null;
  /** On a target: writes allowed, syncs refused. */
  promoted: boolean;
  /** When the source took the snapshots both sides hold (ms): the replicas' point in time. */
  lastSnapshotTime: number | null;
  /** When the pending sync's snapshots were taken (ms); null: no sync under way. */
  pendingSnapshotTime: number | null;
  lastSyncFinished: number | null;
  lastSyncBytes: number;
  totalBytes: number;
  lastError: string | null;
  ctime: number;
}

