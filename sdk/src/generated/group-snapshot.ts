// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { volumeGroupIdOf, type VolumeGroupReference } from "../references";

export interface GroupSnapshotArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /** The group whose members to snapshot (a VolumeGroup or its id). Changing it makes a new snapshot. */
  volumeGroup: VolumeGroupReference;
  /** Display name (changing it makes a new group snapshot). */
  name?: pulumi.Input<string>;
  /** Free-text description (changing it makes a new group snapshot). */
  description?: pulumi.Input<string>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * A snapshot of every member of a volume group at one instant: the server holds the members' iSCSI I/O while
 * it snapshots them, so no write lands between two member snapshots. The members are the group's members when
 * the snapshot is taken; later membership changes do not change it. Destroying it deletes every member
 * snapshot.
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
      volumeGroup: volumeGroupIdOf(args.volumeGroup),
      name: args.name,
      description: args.description,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      groupSnapshotId: undefined,
      volumeGroupId: undefined,
      memberSnapshots: undefined,
      createdAt: undefined,
    }, opts, MODULE, "GroupSnapshot");
  }
}
