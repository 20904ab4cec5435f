import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "./declaration";
import { BlockVolume } from "./block-volume";
import { dplProvider } from "./provider-shim";
import { poolIdOf } from "./references";
import type { VolumeArgs } from "./volume";

/** Where the image comes from: exactly one of `path` and `url`. */
export interface ImageSourceArgs {
  /** A file on the DPL server, inside one of its image directories (see `dpl-server serve --image-dir`, and each pool's `images/`). */
  path?: pulumi.Input<string>;
  /** An http(s) URL the server fetches (zero blocks are written as holes). */
  url?: pulumi.Input<string>;
  /** "raw" or "qcow2". */
  format: pulumi.Input<"raw" | "qcow2">;
}

/** A Volume's arguments plus its image; sizes are optional here (default: the image's virtual size). */
export interface VolumeFromImageArgs extends Omit<VolumeArgs, "sizeGib" | "sizeBytes"> {
  /**
   * The image whose disk the volume starts with. Changing it replaces the volume (preview says
   * so and why); the old volume and its data are kept unless `deleteDataOnReplace` is true.
   */
  image: pulumi.Input<ImageSourceArgs>;
  /** Size in GiB; at least the image's virtual size (default: that size). Growing it extends in place. */
  sizeGib?: pulumi.Input<number>;
  /** Size in bytes; at least the image's virtual size (default: that size). Growing it extends in place. */
  sizeBytes?: pulumi.Input<number>;
}

/**
 * A DPL volume made from a raw or qcow2 image: a file on the server (a raw file on the pool's own
 * filesystem becomes a reflink, no data copied) or a URL the server fetches (holes stay holes).
 */
export class VolumeFromImage extends BlockVolume {
  constructor(name: string, args: VolumeFromImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "volumeFromImage",
      objectId: declaredId("VolumeFromImage", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      deleteDataOnReplace: args.deleteDataOnReplace,
      pool: poolIdOf(args.pool),
      image: args.image,
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
    }, opts, MODULE, "VolumeFromImage");
  }
}
