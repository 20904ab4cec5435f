// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";

/** What the server reports for any volume, whichever kind made it: a clone is an ordinary volume once it exists. */
export abstract class BlockVolume extends pulumi.dynamic.Resource {
  /** The volume's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly volumeId: pulumi.Output<string>;
  /** The volume's logical size in bytes, as the server reports it. */
  declare public readonly sizeBytes: pulumi.Output<number>;
  /** Bytes allocated on the pool for this volume (data shared with a source counts in full). */
  declare public readonly usedBytes: pulumi.Output<number>;
  /** The pool the volume lives in. */
  declare public readonly poolId: pulumi.Output<string>;
  /** "creating", "available", "deleting" or "error". */
  declare public readonly state: pulumi.Output<string>;
  /** The name the server shows (the id when no name was given). */
  declare public readonly displayName: pulumi.Output<string>;
}
