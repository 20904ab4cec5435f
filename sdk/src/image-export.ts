import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DplResourceArgs } from "./declaration";
import { dplProvider } from "./provider-shim";
import { snapshotIdOf, volumeIdOf, type SnapshotReference, type VolumeReference } from "./references";

export interface ImageExportArgs extends DplResourceArgs {
  /** The volume to write out (a Volume, Clone, VolumeFromImage or id). Changing it makes a new image. */
  volume: VolumeReference;
  /** Write this snapshot of the volume instead of its current data (a consistent point in time). */
  snapshot?: SnapshotReference;
  /** "raw" (in the pool's own directory: a reflink, no data copied) or "qcow2" (only allocated clusters). */
  format: pulumi.Input<"raw" | "qcow2">;
  /** One of the server's image directories; default: the source pool's own `images/` directory. */
  directory?: pulumi.Input<string>;
}

/**
 * A volume or snapshot written out as an image file on the DPL server. Download it with
 * `GET <server>/v1/dpl_image/<imageId>/content` (`contentUri`); deleting the resource deletes the file.
 */
export class ImageExport extends pulumi.dynamic.Resource {
  /** The image's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly imageId: pulumi.Output<string>;
  /** The image file on the server. */
  declare public readonly path: pulumi.Output<string>;
  declare public readonly format: pulumi.Output<string>;
  /** Size of the disk the image holds. */
  declare public readonly virtualBytes: pulumi.Output<number>;
  /** Length of the image file. */
  declare public readonly fileBytes: pulumi.Output<number>;
  /** Bytes the file takes on the server's disk. */
  declare public readonly allocatedBytes: pulumi.Output<number>;
  /** Path (under the server's URL) that streams the image's bytes. */
  declare public readonly contentUri: pulumi.Output<string>;

  constructor(name: string, args: ImageExportArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "imageExport",
      objectId: declaredId("ImageExport", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      volume: volumeIdOf(args.volume),
      snapshot: args.snapshot === undefined ? undefined : snapshotIdOf(args.snapshot),
      format: args.format,
      directory: args.directory,
      imageId: undefined,
      path: undefined,
      virtualBytes: undefined,
      fileBytes: undefined,
      allocatedBytes: undefined,
      contentUri: undefined,
    }, opts, MODULE, "ImageExport");
  }
}
