/**
 * What core is asked to do, in its own terms. The api translates each wire body into one of
 * these (server/src/api/commands/); core never sees the wire's field names, its multiplexed
 * bodies or its spelling. A refusal that blames an input names the command's property path
 * (`DomainError.field`, e.g. "sizeBytes" or "devices.1.path"), which the api maps back to the
 * wire field it came from.
 */
import type { CacheMode, Compression, ImageFormat, ImageSource, RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { CephConnection, PoolBackendKind } from "./ports";
import type { ChapSecretRecord } from "./records";

/** Settings of a new volume; what is left out is the source's, or the server's default. */
export interface VolumeSettings {
  /** Absent: the volume's id. */
  name?: string | undefined;
  description?: string | undefined;
  poolId?: string | undefined;
  sizeBytes?: number | undefined;
  thin?: boolean | undefined;
  compression?: Compression | undefined;
  cacheMode?: CacheMode | undefined;
  maximumSnapshot?: number | undefined;
  snapshotQuota?: number | undefined;
}

/** An empty volume: its pool and size are required. */
export type NewVolume = VolumeSettings & { poolId: string; sizeBytes: number };

/** A full, independent copy of a snapshot's data. */
export interface VolumeFromSnapshot {
  snapshotId: string;
  settings: VolumeSettings;
}

/** A volume sharing a snapshot's blocks in the snapshot's pool, at its size. */
export interface SpawnedVolume {
  snapshotId: string;
  name?: string | undefined;
  description?: string | undefined;
}

/** A copy of another volume's current data. */
export interface ClonedVolume {
  sourceVolumeId: string;
  settings: VolumeSettings;
}

/** A volume holding an image's disk; its size is the image's unless a larger one is asked for. */
export interface VolumeFromImage {
  image: ImageSource;
  settings: VolumeSettings & { poolId: string };
}

/** An in-place change; absent keeps. A null name goes back to the id, a null description clears it. */
export interface VolumeChanges {
  name?: string | null | undefined;
  description?: string | null | undefined;
  /** Grow only. */
  sizeBytes?: number | undefined;
  maximumSnapshot?: number | undefined;
  snapshotQuota?: number | undefined;
  compression?: Compression | undefined;
  cacheMode?: CacheMode | undefined;
  thin?: boolean | undefined;
  /** Another pool: the data is copied there and the volume switches over. */
  moveToPoolId?: string | undefined;
}

export interface NewSnapshot {
  snapshotId: string;
  name?: string | undefined;
  description?: string | undefined;
}

export interface RollbackTo {
  snapshotId: string;
}

/** Initiators to let in to a volume's export, and (when `authentication` is given) its CHAP. */
export type ExportGrant =
  | {
    protocol: "iscsi";
    /** 0: the server's choice. */
    lun: number;
    logicalUnitName?: string | undefined;
    initiators: string[];
    /** Absent keeps the export's CHAP; present sets both directions (null: none). */
    authentication?: { chap: ChapSecretRecord | null; mutualChap: ChapSecretRecord | null } | undefined;
  }
  | { protocol: "fc" };

/** Initiators to remove from a volume's export; an empty `targetIqn` matches the volume's own. */
export type ExportRevocation =
  | { protocol: "iscsi"; targetIqn: string; initiators: string[] }
  | { protocol: "fc" };

/** A device a pool is asked to be built from or to take. */
export type DeviceRequest = { type: "image_file"; size: number } | { type: "block_device"; path: string };

export interface NewPool {
  name: string;
  description?: string | undefined;
  raid: RaidLevel;
  compression: Compression;
  maxOversubscription?: number | undefined;
  /** raid5 and raid6 need it: the caller accepts their write hole. */
  forceRaid56?: boolean | undefined;
  devices: DeviceRequest[];
  maintenanceSchedule?: MaintenanceIntervals | undefined;
  /** Absent: btrfs. */
  backend?: PoolBackendKind | undefined;
  /** Required with backend rbd. */
  ceph?: CephConnection | undefined;
}

/** How often the server scrubs / dedupes a pool by itself: a number sets, null clears, absent keeps. */
export interface MaintenanceIntervals {
  scrubEverySeconds?: number | null | undefined;
  dedupeEverySeconds?: number | null | undefined;
}

export type DeviceChange =
  | { operation: "add"; devices: DeviceRequest[] }
  | { operation: "remove"; deviceIds: string[] }
  | { operation: "replace"; deviceId: string; device: DeviceRequest };

export interface NewTarget {
  protocol: "iscsi" | "fc";
  name?: string | undefined;
  description?: string | undefined;
  /** Absent: the server chooses an IQN. */
  address?: string | undefined;
}

export interface NewVolumeGroup {
  volumeIds: string[];
  name?: string | undefined;
  description?: string | undefined;
  maximumSnapshot?: number | undefined;
  snapshotRotation?: boolean | undefined;
}

export interface MembershipChange {
  operation: "join" | "leave";
  volumeIds: string[];
}

export interface NewImage {
  sourceVolumeId: string;
  /** A snapshot of the source volume: its data instead of the volume's current data. */
  sourceSnapshotId?: string | undefined;
  format: ImageFormat;
  /** One of the server's image directories; absent: the source pool's own. */
  directory?: string | undefined;
}

/** How this server reaches another DPL server. */
export interface PeerEndpoint {
  url: string;
  username: string;
  password: string;
  /** PEM trusted for this peer only (a self-signed server certificate); absent: the system's CAs. */
  caCertificate?: string | undefined;
}

/** What a relationship carries: one volume, or every member of a volume group at one instant. */
export type ReplicatedObject = { volumeId: string } | { volumeGroupId: string };

export interface NewReplication {
  name?: string | undefined;
  description?: string | undefined;
  source: ReplicatedObject;
  target: PeerEndpoint;
  /** The target server's pool for the replica. */
  targetPoolId: string;
  /** Null or absent: syncs only on demand. */
  rpoSeconds?: number | null | undefined;
  rateLimitBytesPerSecond?: number | null | undefined;
}

/** Absent keeps; null clears (no schedule, no rate limit, no name). */
export interface ReplicationChanges {
  name?: string | null | undefined;
  rpoSeconds?: number | null | undefined;
  rateLimitBytesPerSecond?: number | null | undefined;
  /** New credentials for the same target URL. */
  target?: PeerEndpoint | undefined;
}

/** One volume's stream of a sync, every byte of which has arrived at the target. */
export interface TransferCommit {
  volumeId: string;
  snapshotId: string;
  parentSnapshotId: string | null;
  bytes: number;
  sha256: string;
  volumeSize: number;
}

/** What a source tells its target when every stream of a sync has arrived: publish them together. */
export interface SyncCommit {
  /** When the source took the snapshots (ms): the replicas' point in time. */
  snapshotTime: number;
  transfers: TransferCommit[];
}

/** What a source announces to its target: the relationship, and the volumes it will carry. */
export interface ReplicaAnnouncement {
  volumeIds: string[];
  volumeGroupId: string | null;
  poolId: string;
  name: string | null;
}
