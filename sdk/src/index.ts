/**
 * @prophetstor/pulumi-dpl: Pulumi resources for ProphetStor DPL storage.
 *
 *   import * as dpl from "@prophetstor/pulumi-dpl";
 *   const pool = await dpl.getPool();
 *   const vol = new dpl.Volume("data", { pool, sizeGib: 10 });
 *   new dpl.ISCSIExport("data", { volume: vol, initiators: ["iqn.2026-01.com.example:host1"] });
 *
 * The server and credentials come from stack config (dpl:endpoint, dpl:username, dpl:password
 * (secret), dpl:caFile or dpl:caPem, dpl:insecure) or DPL_* environment variables, read when each
 * operation runs; nothing of them is stored in the state.
 */
export { Pool, type PoolArgs, type PoolDeviceArgs, type PoolDeviceHealth } from "./pool";
export { BlockVolume } from "./block-volume";
export { Volume, type VolumeArgs } from "./volume";
export { Snapshot, type SnapshotArgs } from "./snapshot";
export { Clone, type CloneArgs } from "./clone";
export { VolumeFromImage, type VolumeFromImageArgs, type ImageSourceArgs } from "./volume-from-image";
export { ImageExport, type ImageExportArgs } from "./image-export";
export { ISCSIExport, type ISCSIExportArgs, type ChapArgs, type ISCSIConnectionInfo } from "./iscsi-export";
export { FCExport, type FCExportArgs } from "./fc-export";
export { Rollback, type RollbackArgs } from "./rollback";
export { VolumeGroup, type VolumeGroupArgs } from "./volume-group";
export { GroupSnapshot, type GroupSnapshotArgs, type VolumeGroupReference } from "./group-snapshot";
export { getDisks, getPool, getServerInfo, getVolume, type DiskLookup, type LookupArgs, type PoolLookup, type ServerInfoLookup, type VolumeLookup } from "./lookups";
export type { DplResourceArgs } from "./declaration";
export type { VolumeReference, PoolReference, SnapshotReference } from "./references";
