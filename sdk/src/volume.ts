import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DataVolumeArgs } from "./declaration";
import { BlockVolume } from "./block-volume";
import { dplProvider } from "./provider-shim";
import { poolIdOf, type PoolReference } from "./references";

export interface VolumeArgs extends DataVolumeArgs {
  /** The pool the volume lives in: a Pool, a `getPool` result, or a pool id. Changing it moves the volume in place: the data is copied, the id and export stay (refused while it has snapshots or logged-in initiators). */
  pool: PoolReference;
  /** Size in GiB (may be fractional). Give this or `sizeBytes`. Growing it extends the volume in place; shrinking is refused. */
  sizeGib?: pulumi.Input<number>;
  /** Size in bytes. Give this or `sizeGib`. Growing it extends the volume in place; shrinking is refused. */
  sizeBytes?: pulumi.Input<number>;
  /** Thin (sparse, the default) or thick (all blocks allocated up front). Changed in place: blocks are allocated, or never-written ones given back. */
  thin?: pulumi.Input<boolean>;
  /** Display name (default: the volume id). Changes in place. */
  name?: pulumi.Input<string>;
  /** Free-text description. Changes in place. */
  description?: pulumi.Input<string>;
  /** Per-volume compression: "none", "lzo", "zstd" or "zstd:<1-15>". Changed in place: data written from then on uses it, stored data keeps its own. */
  compression?: pulumi.Input<string>;
  /** How the iSCSI target caches this volume's I/O: "writeback" (default), "writethrough" or "direct". Changed in place: the LUN is re-added with the new flags; logged-in initiators stay. */
  cacheMode?: pulumi.Input<"writeback" | "writethrough" | "direct">;
}

/** A DPL volume: a block device on a pool, thin or thick, that can be exported over iSCSI. */
export class Volume extends BlockVolume {
  constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "volume",
      objectId: declaredId("Volume", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      deleteDataOnReplace: args.deleteDataOnReplace,
      pool: poolIdOf(args.pool),
      sizeGib: args.sizeGib,
      sizeBytes: args.sizeBytes,
      thin: args.thin,
      name: args.name,
      description: args.description,
      compression: args.compression,
      cacheMode: args.cacheMode,
      volumeId: undefined,
      usedBytes: undefined,
      poolId: undefined,
      state: undefined,
      displayName: undefined,
    }, opts, MODULE, "Volume");
  }
}
