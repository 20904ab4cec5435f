import * as pulumi from "@pulumi/pulumi";

/** Plain values, Outputs and Promises are ids already; anything else is a resource or lookup holding one. */
function isIdInput(ref: unknown): ref is pulumi.Input<string> {
  return typeof ref === "string" || pulumi.Output.isInstance(ref) || ref instanceof Promise;
}

/**
 * A DPL resource's `id` is its object's DPL id. It is used rather than an output such as
 * `volumeId` because it stays known in a preview of an update (outputs of a dynamic resource being
 * updated are unknown there), so updating a volume does not look like it replaces its snapshots.
 */
function resourceId(ref: object): pulumi.Input<string> | undefined {
  return pulumi.CustomResource.isInstance(ref) ? ref.id : undefined;
}

/** Anything that has a DPL volume id: a Volume, a Clone, a volume lookup, or the id itself. */
export interface HasVolumeId {
  readonly volumeId: pulumi.Input<string>;
}
export type VolumeReference = pulumi.Input<string> | HasVolumeId;

export function volumeIdOf(ref: VolumeReference): pulumi.Input<string> {
  return isIdInput(ref) ? ref : resourceId(ref) ?? ref.volumeId;
}

/** Anything that has a DPL pool id: a Pool, a pool lookup, or the id itself. */
export interface HasPoolId {
  readonly poolId: pulumi.Input<string>;
}
export type PoolReference = pulumi.Input<string> | HasPoolId;

export function poolIdOf(ref: PoolReference): pulumi.Input<string> {
  return isIdInput(ref) ? ref : resourceId(ref) ?? ref.poolId;
}

/** A Snapshot, or a snapshot id. */
export interface HasSnapshotId {
  readonly snapshotId: pulumi.Input<string>;
}
export type SnapshotReference = pulumi.Input<string> | HasSnapshotId;

export function snapshotIdOf(ref: SnapshotReference): pulumi.Input<string> {
  return isIdInput(ref) ? ref : resourceId(ref) ?? ref.snapshotId;
}

/** A VolumeGroup, or a volume group id. */
export type VolumeGroupReference = pulumi.Input<string> | pulumi.CustomResource;

export function volumeGroupIdOf(ref: VolumeGroupReference): pulumi.Input<string> {
  return isIdInput(ref) ? ref : ref.id;
}
