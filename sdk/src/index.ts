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
export {
  Pool, type PoolArgs, type PoolDeviceArgs, type PoolDeviceHealth,
  BlockVolume, Volume, type VolumeArgs, Snapshot, type SnapshotArgs, Clone, type CloneArgs,
  VolumeFromImage, type VolumeFromImageArgs, type ImageSourceArgs, ImageExport, type ImageExportArgs,
  ISCSIExport, type ISCSIExportArgs, type ChapArgs, type ISCSIConnectionInfo, FCExport, type FCExportArgs,
  Rollback, type RollbackArgs, VolumeGroup, type VolumeGroupArgs, GroupSnapshot, type GroupSnapshotArgs,
  Replication, type ReplicationArgs, type ReplicationCredentialsArgs, Failover, type FailoverArgs, type DplServerArgs,
} from "./generated";
export { getDisks, getPool, getServerInfo, getVolume, type DiskLookup, type LookupArgs, type PoolLookup, type ServerInfoLookup, type VolumeLookup } from "./lookups";
export type { DplResourceArgs } from "./declaration";
export type { VolumeReference, PoolReference, SnapshotReference, VolumeGroupReference } from "./references";
