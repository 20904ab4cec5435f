import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DplResourceArgs } from "./declaration";
import { dplProvider } from "./provider-shim";

/** A VolumeGroup, or a volume group id. */
export type VolumeGroupReference = pulumi.Input<string> | pulumi.CustomResource;

export interface GroupSnapshotArgs extends DplResourceArgs {
  /** The group whose members to snapshot (a VolumeGroup or its id). Changing it makes a new snapshot. */
  volumeGroup: VolumeGroupReference;
  /** Display name (changing it makes a new group snapshot). */
  name?: pulumi.Input<string>;
  /** Free-text description (changing it makes a new group snapshot). */
  description?: pulumi.Input<string>;
}

/**
 * A snapshot of every member of a volume group at one instant: the server holds the members'
 * iSCSI I/O while it snapshots them, so no write lands between two member snapshots. The
 * members are the group's members when the snapshot is taken; later membership changes do not
 * change it. Destroying it deletes every member snapshot.
 */
export class GroupSnapshot extends pulumi.dynamic.Resource {
  /** The group snapshot's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly groupSnapshotId: pulumi.Output<string>;
  /** The group it was taken of. */
  declare public readonly volumeGroupId: pulumi.Output<string>;
  /** Member volume id → the id of that volume's snapshot (usable wherever a snapshot id is). */
  declare public readonly memberSnapshots: pulumi.Output<Record<string, string>>;
  /** When it was taken (ISO 8601). */
  declare public readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: GroupSnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "groupSnapshot",
      objectId: declaredId("GroupSnapshot", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      // The resource id stays known in a preview of the group's update (its outputs do not).
      volumeGroup: pulumi.CustomResource.isInstance(args.volumeGroup) ? args.volumeGroup.id : args.volumeGroup,
      name: args.name,
      description: args.description,
      groupSnapshotId: undefined,
      volumeGroupId: undefined,
      memberSnapshots: undefined,
      createdAt: undefined,
    }, opts, MODULE, "GroupSnapshot");
  }
}
