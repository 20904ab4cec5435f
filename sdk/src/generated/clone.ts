// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { BlockVolume } from "./block-volume";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { poolIdOf, type PoolReference, snapshotIdOf, type SnapshotReference, volumeIdOf, type VolumeReference } from "../references";

export interface CloneArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /** The source volume (a Volume, a Clone or an id). Changing it replaces the clone. */
  sourceVolume: VolumeReference;
  /**
   * Copy this snapshot of the source volume instead of the volume's current data. Changing it replaces the
   * clone.
   */
  sourceSnapshot?: SnapshotReference;
  /**
   * Size in bytes; at least the source's size (default: that size). Growing it extends in place; shrinking is
   * refused.
   */
  sizeBytes?: pulumi.Input<number>;
  /**
   * Size in GiB; at least the source's size (default: that size). Growing it extends in place; shrinking is
   * refused.
   */
  sizeGib?: pulumi.Input<number>;
  /**
   * Put the clone in another pool (data is copied then); default: the source's pool. Changing it moves the
   * clone in place (same id, data and export).
   */
  pool?: PoolReference;
  /** Thin (default: like the source) or thick. Changed in place (blocks allocated or given back). */
  thin?: pulumi.Input<boolean>;
  /** Display name. Changes in place. */
  name?: pulumi.Input<string>;
  /** Free-text description. Changes in place. */
  description?: pulumi.Input<string>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
  /**
   * When a change replaces this volume (the few that cannot be made in place: another image, another clone
   * source), the old volume is deleted only if this is true. By default it is kept on the server with its
   * data, out of the stack, and the deployment says so (preview already says why it replaces). Removing the
   * resource from the program, or `pulumi destroy`, still deletes it: use the `protect` resource option
   * against that.
   */
  deleteDataOnReplace?: pulumi.Input<boolean>;
}

/** A new, independent volume made from a volume or one of its snapshots (no data copied within a pool). */
export class Clone extends BlockVolume {
  constructor(name: string, args: CloneArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "clone",
      objectId: declaredId("Clone", name),
      adopt: args.adopt,
      sourceVolume: volumeIdOf(args.sourceVolume),
      sourceSnapshot: args.sourceSnapshot === undefined ? undefined : snapshotIdOf(args.sourceSnapshot),
      sizeBytes: args.sizeBytes,
      sizeGib: args.sizeGib,
      pool: args.pool === undefined ? undefined : poolIdOf(args.pool),
      thin: args.thin,
      name: args.name,
      description: args.description,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      deleteDataOnReplace: args.deleteDataOnReplace,
      volumeId: undefined,
      usedBytes: undefined,
      poolId: undefined,
      state: undefined,
      displayName: undefined,
    }, opts, MODULE, "Clone");
  }
}
