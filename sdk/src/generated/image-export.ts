// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { snapshotIdOf, type SnapshotReference, volumeIdOf, type VolumeReference } from "../references";

export interface ImageExportArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /** The volume to write out (a Volume, Clone, VolumeFromImage or id). Changing it makes a new image. */
  volume: VolumeReference;
  /** Write this snapshot of the volume instead of its current data (a consistent point in time). */
  snapshot?: SnapshotReference;
  /** "raw" (in the pool's own directory: a reflink, no data copied) or "qcow2" (only allocated clusters). */
  format: pulumi.Input<"raw" | "qcow2">;
  /** One of the server's image directories; default: the source pool's own `images/` directory. */
  directory?: pulumi.Input<string>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * A volume or snapshot written out as an image file on the DPL server. Download it with `GET
 * <server>/v1/dpl_image/<imageId>/content` (`contentUri`); deleting the resource deletes the file.
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
      volume: volumeIdOf(args.volume),
      snapshot: args.snapshot === undefined ? undefined : snapshotIdOf(args.snapshot),
      format: args.format,
      directory: args.directory,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      imageId: undefined,
      path: undefined,
      virtualBytes: undefined,
      fileBytes: undefined,
      allocatedBytes: undefined,
      contentUri: undefined,
    }, opts, MODULE, "ImageExport");
  }
}
