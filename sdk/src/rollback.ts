import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DplResourceArgs } from "./declaration";
import { dplProvider } from "./provider-shim";
import { snapshotIdOf, volumeIdOf, type SnapshotReference, type VolumeReference } from "./references";

export interface RollbackArgs extends Omit<DplResourceArgs, "adopt"> {
  /** The volume to roll back (a Volume, a Clone or a volume id). */
  volume: VolumeReference;
  /** The snapshot of that volume to roll back to. */
  snapshot: SnapshotReference;
  /**
   * Any values; when one changes, the volume is rolled back again (like pulumi-command's
   * `triggers`). E.g. `[1]`, bumped to `[2]` to roll back once more.
   */
  triggers?: pulumi.Input<unknown[]>;
}

/**
 * An action: creating it rolls the volume's data back to the snapshot, in place (an exported LUN
 * sees the old data at once). Changing the volume, the snapshot or a trigger rolls back again;
 * deleting it does nothing on the server, so a rollback kept in the state never fires by accident.
 * Hosts should not have the volume mounted while it is rolled back.
 */
export class Rollback extends pulumi.dynamic.Resource {
  /** When the rollback ran (ISO 8601). */
  declare public readonly rolledBackAt: pulumi.Output<string>;

  constructor(name: string, args: RollbackArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "rollback",
      objectId: declaredId("Rollback", name),
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      volume: volumeIdOf(args.volume),
      snapshot: snapshotIdOf(args.snapshot),
      triggers: args.triggers,
      rolledBackAt: undefined,
    }, opts, MODULE, "Rollback");
  }
}
