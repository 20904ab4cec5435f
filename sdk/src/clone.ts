import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DataVolumeArgs } from "./declaration";
import { BlockVolume } from "./block-volume";
import { dplProvider } from "./provider-shim";
import { poolIdOf, snapshotIdOf, volumeIdOf, type PoolReference, type SnapshotReference, type VolumeReference } from "./references";

export interface CloneArgs extends DataVolumeArgs {
  /** The source volume (a Volume, a Clone or an id). Changing it replaces the clone. */
  sourceVolume: VolumeReference;
  /** Copy this snapshot of the source volume instead of the volume's current data. Changing it replaces the clone. */
  sourceSnapshot?: SnapshotReference;
  /** Size in GiB; at least the source's size (default: the source's size). Growing it extends in place. */
  sizeGib?: pulumi.Input<number>;
  /** Size in bytes; at least the source's size (default: the source's size). Growing it extends in place. */
  sizeBytes?: pulumi.Input<number>;
  /** Put the clone in another pool (data is copied then); default: the source's pool. Changing it moves the clone in place (same id, data and export). */
  pool?: PoolReference;
  /** Thin (default: like the source) or thick. Changed in place (blocks allocated or given back). */
  thin?: pulumi.Input<boolean>;
  /** Display name. Changes in place. */
  name?: pulumi.Input<string>;
  /** Free-text description. Changes in place. */
  description?: pulumi.Input<string>;
}

/** A new, independent volume made from a volume or one of its snapshots (no data copied within a pool). */
export class Clone extends BlockVolume {
  constructor(name: string, args: CloneArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "clone",
      objectId: declaredId("Clone", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      deleteDataOnReplace: args.deleteDataOnReplace,
      sourceVolume: volumeIdOf(args.sourceVolume),
      sourceSnapshot: args.sourceSnapshot === undefined ? undefined : snapshotIdOf(args.sourceSnapshot),
      sizeGib: args.sizeGib,
      sizeBytes: args.sizeBytes,
      pool: args.pool === undefined ? undefined : poolIdOf(args.pool),
      thin: args.thin,
      name: args.name,
      description: args.description,
      volumeId: undefined,
      usedBytes: undefined,
      poolId: undefined,
      state: undefined,
      displayName: undefined,
    }, opts, MODULE, "Clone");
  }
}
