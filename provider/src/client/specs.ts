import type { z } from "zod";
import type {
  CacheMode,
  CloneBody,
  Compression,
  CopyFromSnapshotBody,
  ImageCreateBody,
  ImageFormat,
  ImageSource,
  MaintenanceSchedule,
  CephConnection,
  PoolBackend,
  PoolCreateBody,
  PoolDevice,
  RaidLevel,
  TargetCreateBody,
  VolgroupCreateBody,
  VolumeCreateBody,
  VolumeFromImageBody,
  VolumeModifyBody,
} from "../wire";

/**
 * The client's inputs, in the provider's camelCase vocabulary. Each maps 1:1 onto a wire body
 * (below); the client then validates that body with its wire schema, so every limit lives in
 * one place (provider/src/wire) and the server checks the very same rules.
 */

type Text = string | null | undefined;

export interface VolumeSpec {
  poolId: string;
  sizeBytes: number;
  /** Default true (sparse); false allocates all blocks up front. */
  thin?: boolean | undefined;
  name?: Text;
  description?: Text;
  compression?: Compression | undefined;
  cacheMode?: CacheMode | undefined;
  maximumSnapshot?: number | undefined;
  snapshotQuota?: number | undefined;
}

export interface VolumeChanges {
  name?: Text;
  description?: Text;
  sizeBytes?: number | undefined;
  maximumSnapshot?: number | undefined;
  snapshotQuota?: number | undefined;
  /** Compression of data written from now on ("none": the pool's). */
  compression?: Compression | undefined;
  cacheMode?: CacheMode | undefined;
  thin?: boolean | undefined;
  /** Moves the volume to this pool (its id and export stay). */
  moveToPool?: string | undefined;
}

/**
 * Copy from a snapshot or clone of a volume: a volume spec whose pool and size default to the
 * source's; `sizeBytes` may exceed the source's size.
 */
export type CopySpec = Omit<VolumeSpec, "poolId" | "sizeBytes"> & {
  poolId?: string | undefined;
  sizeBytes?: number | undefined;
};
export type CopyFromSnapshotSpec = CopySpec;
export type CloneSpec = CopySpec;

/**
 * A volume made from an image: a file on the server (inside its image directories) or an http(s)
 * URL it fetches. The size defaults to the image's virtual size and may only be larger.
 */
export type ImageVolumeSpec = Omit<VolumeSpec, "sizeBytes"> & {
  sizeBytes?: number | undefined;
  image: ImageSource;
};

/** A volume (or one of its snapshots) written out as an image file on the server. */
export interface ImageExportSpec {
  sourceVolume: string;
  sourceSnapshot?: string | undefined;
  format: ImageFormat;
  /** One of the server's image directories; default: the source pool's own (raw is then a reflink). */
  directory?: string | undefined;
  name?: Text;
}

export interface NameSpec {
  name?: Text;
  description?: Text;
}
export type SnapshotSpec = NameSpec;
export type SpawnSpec = NameSpec;
export type GroupSnapshotSpec = NameSpec;

export interface PoolSpec {
  name: string;
  description?: Text;
  raidLevel?: RaidLevel | undefined;
  compression?: Compression | undefined;
  maxOversubscription?: number | undefined;
  /** Accept raid5/raid6 and their caveats (write hole, slow scrub). */
  forceRaid56?: boolean | undefined;
  devices: PoolDevice[];
  /** How often the server scrubs / dedupes the pool on its own. */
  maintenanceSchedule?: MaintenanceSchedule | undefined;
  /** Absent: btrfs. */
  backend?: PoolBackend | undefined;
  /** With backend "rbd": the Ceph cluster the images go to. */
  ceph?: z.input<typeof CephConnection> | undefined;
}

export interface TargetSpec {
  protocol: "iscsi" | "fc";
  name?: Text;
  description?: Text;
  /** IQN or WWPN; the server chooses an IQN when omitted. */
  address?: string | undefined;
}

export interface VolumeGroupSpec {
  volumes?: string[] | undefined;
  name?: Text;
  description?: Text;
  maximumSnapshot?: number | undefined;
  snapshotRotation?: boolean | undefined;
}

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** Drops undefined members so strict wire schemas see only what the caller set. */
function defined<T extends Record<string, unknown>>(record: T): Partial<Defined<T>> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<Defined<T>>;
}

function volumeProperties(spec: { thin?: boolean | undefined; compression?: Compression | undefined; cacheMode?: CacheMode | undefined }) {
  return { thin_provision: spec.thin ?? true, ...defined({ compression: spec.compression, cache_mode: spec.cacheMode }) };
}

export function nameMetadata(spec: NameSpec): { display_name?: string | null; display_description?: string | null } {
  return defined({ display_name: spec.name, display_description: spec.description });
}

export function volumeCreateMetadata(spec: VolumeSpec): z.input<typeof VolumeCreateBody>["metadata"] {
  return {
    ...nameMetadata(spec),
    pool_uuid: spec.poolId,
    total_capacity: spec.sizeBytes,
    ...defined({ maximum_snapshot: spec.maximumSnapshot, snapshot_quota: spec.snapshotQuota }),
    properties: volumeProperties(spec),
  };
}

export function volumeModifyMetadata(changes: VolumeChanges): z.input<typeof VolumeModifyBody>["metadata"] {
  return {
    ...nameMetadata(changes),
    ...defined({ total_capacity: changes.sizeBytes, maximum_snapshot: changes.maximumSnapshot, snapshot_quota: changes.snapshotQuota }),
    ...defined({ move_to_pool: changes.moveToPool }),
    ...(changes.compression === undefined && changes.cacheMode === undefined && changes.thin === undefined
      ? {}
      : { properties: defined({ compression: changes.compression, cache_mode: changes.cacheMode, thin_provision: changes.thin }) }),
  };
}

type CopyMetadata = Omit<z.input<typeof CopyFromSnapshotBody>["metadata"], "snapshot_operation"> &
  Omit<z.input<typeof CloneBody>["metadata"], "snapshot_operation">;

/** Metadata shared by copy-from-snapshot and clone (the caller adds `snapshot_operation`). */
export function copyMetadata(spec: CopySpec): CopyMetadata {
  const wantsProperties = spec.thin !== undefined || spec.compression !== undefined || spec.cacheMode !== undefined;
  return {
    ...nameMetadata(spec),
    ...defined({
      pool_uuid: spec.poolId,
      total_capacity: spec.sizeBytes,
      maximum_snapshot: spec.maximumSnapshot,
      snapshot_quota: spec.snapshotQuota,
    }),
    ...(wantsProperties ? { properties: volumeProperties(spec) } : {}),
  };
}

export function poolCreateMetadata(spec: PoolSpec): z.input<typeof PoolCreateBody>["metadata"] {
  return {
    display_name: spec.name,
    ...defined({ display_description: spec.description, backend: spec.backend, ceph: spec.ceph }),
    properties: defined({
      raid_level: spec.raidLevel, compression: spec.compression, max_oversubscription: spec.maxOversubscription, force_raid56: spec.forceRaid56,
    }),
    devices: spec.devices,
    ...defined({ maintenance_schedule: spec.maintenanceSchedule }),
  };
}

export function targetCreateMetadata(spec: TargetSpec): z.input<typeof TargetCreateBody>["metadata"] {
  return { type: "target", protocol: spec.protocol, ...nameMetadata(spec), ...defined({ address: spec.address }) };
}

export function volumeGroupCreateMetadata(spec: VolumeGroupSpec): z.input<typeof VolgroupCreateBody>["metadata"] {
  return {
    ...nameMetadata(spec),
    ...defined({ volume: spec.volumes, maximum_snapshot: spec.maximumSnapshot }),
    ...(spec.snapshotRotation === undefined ? {} : { properties: { snapshot_rotation: spec.snapshotRotation } }),
  };
}

export function volumeFromImageBody(spec: ImageVolumeSpec): z.input<typeof VolumeFromImageBody> {
  const wantsProperties = spec.thin !== undefined || spec.compression !== undefined || spec.cacheMode !== undefined;
  return {
    metadata: {
      ...nameMetadata(spec),
      pool_uuid: spec.poolId,
      ...defined({ total_capacity: spec.sizeBytes, maximum_snapshot: spec.maximumSnapshot, snapshot_quota: spec.snapshotQuota }),
      ...(wantsProperties ? { properties: volumeProperties(spec) } : {}),
    },
    image: spec.image,
  };
}

export function imageCreateBody(spec: ImageExportSpec): z.input<typeof ImageCreateBody> {
  return {
    metadata: {
      ...defined({ display_name: spec.name, source_snapshot: spec.sourceSnapshot, directory: spec.directory }),
      source_volume: spec.sourceVolume,
      format: spec.format,
    },
  };
}
