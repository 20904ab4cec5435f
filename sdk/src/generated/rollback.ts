// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { snapshotIdOf, type SnapshotReference, volumeIdOf, type VolumeReference } from "../references";

export interface RollbackArgs {
  /** The volume to roll back (a Volume, a Clone or a volume id). */
  volume: VolumeReference;
  /** The snapshot of that volume to roll back to. */
  snapshot: SnapshotReference;
  /**
   * Any values; when one changes, the volume is rolled back again (like pulumi-command's `triggers`). E.g.
   * `[1]`, bumped to `[2]` to roll back once more.
   */
  triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * An action: creating it rolls the volume's data back to the snapshot, in place (an exported LUN sees the old
 * data at once). Changing the volume, the snapshot or a trigger rolls back again; deleting it does nothing on
 * the server, so a rollback kept in the state never fires by accident. Hosts should not have the volume
 * mounted while it is rolled back.
 */
export class Rollback extends pulumi.dynamic.Resource {
  /** When the rollback ran (ISO 8601). */
  declare public readonly rolledBackAt: pulumi.Output<string>;

  constructor(name: string, args: RollbackArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "rollback",
      objectId: declaredId("Rollback", name),
      volume: volumeIdOf(args.volume),
      snapshot: snapshotIdOf(args.snapshot),
      triggers: args.triggers,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      rolledBackAt: undefined,
    }, opts, MODULE, "Rollback");
  }
}
