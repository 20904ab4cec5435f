/** Requests as core receives them: the wire schemas' parsed (defaults applied) output. */
import type { z } from "zod";
import type * as wire from "@prophetstor/dpl-provider/wire";

export type VolumeCreateRequest = z.output<typeof wire.VolumeCreateBody>;
export type VolumeModifyRequest = z.output<typeof wire.VolumeModifyBody>;
export type SnapshotCreateRequest = z.output<typeof wire.SnapshotCreateBody>;
export type RollbackRequest = z.output<typeof wire.RollbackBody>;
export type CopyFromSnapshotRequest = z.output<typeof wire.CopyFromSnapshotBody>;
export type SpawnRequest = z.output<typeof wire.SpawnBody>;
export type CloneRequest = z.output<typeof wire.CloneBody>;
export type ExportAssignRequest = z.output<typeof wire.ExportAssignBody>;
export type ExportUnassignRequest = z.output<typeof wire.ExportUnassignBody>;
export type PoolCreateRequest = z.output<typeof wire.PoolCreateBody>;
export type TargetCreateRequest = z.output<typeof wire.TargetCreateBody>;
export type VolgroupCreateRequest = z.output<typeof wire.VolgroupCreateBody>;
export type VolgroupMembershipRequest = z.output<typeof wire.VolgroupMembershipBody>;
export type VolgroupSnapshotRequest = z.output<typeof wire.VolgroupSnapshotBody>;
export type VolumeFromImageRequest = z.output<typeof wire.VolumeFromImageBody>;
export type ImageCreateRequest = z.output<typeof wire.ImageCreateBody>;
