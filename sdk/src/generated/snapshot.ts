// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { volumeIdOf, type VolumeReference } from "../references";

export interface SnapshotArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /** The volume to snapshot: a Volume, a Clone, or a volume id. Changing it makes a new snapshot. */
  volume: VolumeReference;
  /** Display name. DPL cannot rename snapshots: changing it makes a new snapshot. */
  name?: pulumi.Input<string>;
  /** Free-text description (changing it makes a new snapshot). */
  description?: pulumi.Input<string>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/** A read-only, point-in-time snapshot of a volume (constant time on the server). */
export class Snapshot extends pulumi.dynamic.Resource {
  /** The snapshot's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly snapshotId: pulumi.Output<string>;
  /** The volume the snapshot was taken of. */
  declare public readonly volumeId: pulumi.Output<string>;
  /** The volume's logical size when the snapshot was taken. */
  declare public readonly sizeBytes: pulumi.Output<number>;
  /** Bytes held only by this snapshot (not shared with the live volume). */
  declare public readonly usedBytes: pulumi.Output<number>;
  /** When the snapshot was taken (ISO 8601). */
  declare public readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: SnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "snapshot",
      objectId: declaredId("Snapshot", name),
      adopt: args.adopt,
      volume: volumeIdOf(args.volume),
      name: args.name,
      description: args.description,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      snapshotId: undefined,
      volumeId: undefined,
      sizeBytes: undefined,
      usedBytes: undefined,
      createdAt: undefined,
    }, opts, MODULE, "Snapshot");
  }
}
