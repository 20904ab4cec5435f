import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE, type DplResourceArgs } from "./declaration";
import { sharedProviderShim } from "./provider-shim";

/** One device of a pool: an image file the server makes (by size) or a block device on the server. */
export interface PoolDeviceArgs {
  /** Size of an image file in GiB (the server creates it under its state directory; at least 0.125). */
  sizeGib?: pulumi.Input<number>;
  /** Size of an image file in bytes (at least 128 MiB). */
  sizeBytes?: pulumi.Input<number>;
  /** A block device path on the server, e.g. "/dev/sdb" (must be on the server's allow-list). */
  path?: pulumi.Input<string>;
}

export interface PoolArgs extends DplResourceArgs {
  /** Display name. DPL cannot rename pools: changing it replaces the pool (and its volumes). */
  name: pulumi.Input<string>;
  /** Free-text description (changing it replaces the pool). */
  description?: pulumi.Input<string>;
  /** The devices to build the pool from (1..16). Required unless adopting. Changing them replaces the pool. */
  devices?: pulumi.Input<pulumi.Input<PoolDeviceArgs>[]>;
  /** "single" (default), "raid0" (striping), "raid1" (mirroring), "raid10" or "raid1c3". */
  raidLevel?: pulumi.Input<"single" | "raid0" | "raid1" | "raid10" | "raid1c3">;
  /** "none" (default), "lzo", "zstd" or "zstd:<1-15>". */
  compression?: pulumi.Input<string>;
  /** Thin over-subscription cap: provisioned bytes may reach this multiple of usable capacity. */
  maxOversubscription?: pulumi.Input<number>;
  /** Delete the pool on destroy even when volumes remain in it. */
  forceDestroy?: pulumi.Input<boolean>;
}

/** A DPL storage pool (btrfs over image files or block devices), with RAID and compression. */
export class Pool extends pulumi.dynamic.Resource {
  /** The pool's DPL id (32 hex characters), the same as the resource id. */
  declare public readonly poolId: pulumi.Output<string>;
  /** Usable bytes after redundancy. */
  declare public readonly totalBytes: pulumi.Output<number>;
  /** Bytes in use. */
  declare public readonly usedBytes: pulumi.Output<number>;
  /** Bytes still free. */
  declare public readonly freeBytes: pulumi.Output<number>;
  /** Sum of the logical sizes of all volumes (thin volumes count in full). */
  declare public readonly provisionedBytes: pulumi.Output<number>;
  /** "Online", "Degraded" or "Offline". */
  declare public readonly state: pulumi.Output<string>;
  /** The RAID level the server reports. */
  declare public readonly effectiveRaidLevel: pulumi.Output<string>;
  /** The compression the server reports. */
  declare public readonly effectiveCompression: pulumi.Output<string>;

  constructor(name: string, args: PoolArgs, opts?: pulumi.CustomResourceOptions) {
    super(sharedProviderShim("pool"), name, {
      objectId: declaredId("Pool", name),
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      name: args.name,
      description: args.description,
      devices: args.devices,
      raidLevel: args.raidLevel,
      compression: args.compression,
      maxOversubscription: args.maxOversubscription,
      forceDestroy: args.forceDestroy,
      poolId: undefined,
      totalBytes: undefined,
      usedBytes: undefined,
      freeBytes: undefined,
      provisionedBytes: undefined,
      state: undefined,
      effectiveRaidLevel: undefined,
      effectiveCompression: undefined,
    }, opts, MODULE, "Pool");
  }
}
