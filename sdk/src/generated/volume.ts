// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { BlockVolume } from "./block-volume";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { poolIdOf, type PoolReference } from "../references";

export interface VolumeArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /**
   * The pool the volume lives in: a Pool, a `getPool` result, or a pool id. Changing it moves the volume in
   * place: the data is copied, the id and export stay (refused while it has snapshots or logged-in
   * initiators).
   */
  pool: PoolReference;
  /**
   * Thin (sparse, the default) or thick (all blocks allocated up front). Changed in place: blocks are
   * allocated, or never-written ones given back.
   */
  thin?: pulumi.Input<boolean>;
  /** Display name (default: the volume id). Changes in place. */
  name?: pulumi.Input<string>;
  /** Free-text description. Changes in place. */
  description?: pulumi.Input<string>;
  /**
   * Per-volume compression: "none", "lzo", "zstd" or "zstd:<1-15>". Changed in place: data written from then
   * on uses it, stored data keeps its own.
   */
  compression?: pulumi.Input<string>;
  /**
   * How the iSCSI target caches this volume's I/O: "writeback" (default), "writethrough" or "direct". Changed
   * in place: the LUN is re-added with the new flags; logged-in initiators stay.
   */
  cacheMode?: pulumi.Input<"writeback" | "writethrough" | "direct">;
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
  /** Size in bytes. Give this or `sizeGib`. Growing it extends the volume in place; shrinking is refused. */
  sizeBytes?: pulumi.Input<number>;
  /**
   * Size in GiB (may be fractional). Give this or `sizeBytes`. Growing it extends the volume in place;
   * shrinking is refused.
   */
  sizeGib?: pulumi.Input<number>;
}

/** A DPL volume: a block device on a pool, thin or thick, that can be exported over iSCSI. */
export class Volume extends BlockVolume {
  constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "volume",
      objectId: declaredId("Volume", name),
      adopt: args.adopt,
      pool: poolIdOf(args.pool),
      thin: args.thin,
      name: args.name,
      description: args.description,
      compression: args.compression,
      cacheMode: args.cacheMode,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      deleteDataOnReplace: args.deleteDataOnReplace,
      sizeBytes: args.sizeBytes,
      sizeGib: args.sizeGib,
      volumeId: undefined,
      usedBytes: undefined,
      poolId: undefined,
      state: undefined,
      displayName: undefined,
    }, opts, MODULE, "Volume");
  }
}
