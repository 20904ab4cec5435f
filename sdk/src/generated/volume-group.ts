// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { volumeIdOf, type VolumeReference } from "../references";

export interface VolumeGroupArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /**
   * The member volumes (Volumes, Clones or volume ids); a volume belongs to one group at a time. Adding or
   * removing one changes the group in place.
   */
  volumes: VolumeReference[];
  /** Display name. DPL cannot rename groups: changing it makes a new group. */
  name?: pulumi.Input<string>;
  /** Free-text description (changing it makes a new group). */
  description?: pulumi.Input<string>;
  /** Most group snapshots the group keeps (server default 1024). Changing it makes a new group. */
  maximumSnapshots?: pulumi.Input<number>;
  /** At the maximum, a new group snapshot removes the oldest instead of failing. Changing it makes a new group. */
  snapshotRotation?: pulumi.Input<boolean>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * A volume group (DPL's consistency group): volumes that a GroupSnapshot snapshots together. Destroying the
 * group keeps its volumes.
 */
export class VolumeGroup extends pulumi.dynamic.Resource {
  /** The group's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly volumeGroupId: pulumi.Output<string>;
  /** Member volume ids as the server has them. */
  declare public readonly memberIds: pulumi.Output<string[]>;
  /** Sum of the members' sizes. */
  declare public readonly totalBytes: pulumi.Output<number>;
  /** When the group was made (ISO 8601). */
  declare public readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: VolumeGroupArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "volumeGroup",
      objectId: declaredId("VolumeGroup", name),
      adopt: args.adopt,
      volumes: args.volumes.map(volumeIdOf),
      name: args.name,
      description: args.description,
      maximumSnapshots: args.maximumSnapshots,
      snapshotRotation: args.snapshotRotation,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      volumeGroupId: undefined,
      memberIds: undefined,
      totalBytes: undefined,
      createdAt: undefined,
    }, opts, MODULE, "VolumeGroup");
  }
}
