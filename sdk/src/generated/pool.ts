// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import type { CephConnectionArgs, PoolDeviceArgs, PoolDeviceHealth } from "./types";

export interface PoolArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed:
   * the create fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /** Display name, unique on the server. Changing it renames the pool in place. */
  name: pulumi.Input<string>;
  /** Free-text description (changed in place). */
  description?: pulumi.Input<string>;
  /**
   * "btrfs" (default): the pool is btrfs on the server's own devices. "rbd": the volumes are RBD images in a
   * Ceph pool (`ceph` says which), so the Ceph cluster holds the data and its copies; no devices, RAID level,
   * compression or scrub/dedupe schedule then. Fixed at creation: a change fails at preview (a pool never
   * moves between backends, and is never replaced).
   */
  backend?: pulumi.Input<"btrfs" | "rbd">;
  /** Required with backend "rbd". Fixed at creation like `backend` (a change fails at preview). */
  ceph?: pulumi.Input<CephConnectionArgs>;
  /**
   * The devices of a btrfs pool (1..16). Required unless adopting or with backend "rbd". Changing them is an
   * in-place update (the pool and its volumes stay): a device no longer named is replaced by a newly named
   * one (`btrfs replace`; a missing device is rebuilt from the pool's redundancy), other new devices are
   * added, other dropped ones removed after their data moved to the rest. Devices are matched by what they
   * are (size or path), not by position. The server refuses a removal that would leave too few devices for
   * the RAID level or too little room for the data.
   */
  devices?: pulumi.Input<pulumi.Input<PoolDeviceArgs>[]>;
  /**
   * "single" (default), "raid0" (striping), "raid1" (mirroring), "raid10", "raid1c3", or the parity levels
   * "raid5" and "raid6", which need `allowUnsafeRaid56`. Changing it converts the pool in place (an online
   * balance); preview fails when the declared devices cannot hold the profile.
   */
  raidLevel?: pulumi.Input<"single" | "raid0" | "raid1" | "raid10" | "raid1c3" | "raid5" | "raid6">;
  /**
   * "none" (default), "lzo", "zstd" or "zstd:<1-15>". Changed in place: data written from then on is stored
   * with the new setting, data already stored keeps the compression it was written with.
   */
  compression?: pulumi.Input<string>;
  /**
   * Thin over-subscription cap: provisioned bytes may reach this multiple of usable capacity. Changed in
   * place; the server refuses a cap below what is already provisioned.
   */
  maxOversubscription?: pulumi.Input<number>;
  /**
   * Must be true for raid5 or raid6. btrfs parity RAID is not considered stable: a crash or power loss in the
   * middle of a stripe write can leave parity that no longer matches its data (the "write hole"), and a
   * device lost later then rebuilds those blocks wrong; scrub is much slower than on mirrors and is the only
   * way to find such stripes. Metadata is kept on raid1 (raid5) or raid1c3 (raid6). Prefer
   * raid1/raid10/raid1c3 for data you cannot restore.
   */
  allowUnsafeRaid56?: pulumi.Input<boolean>;
  /** Delete the pool on destroy even when volumes remain in it. */
  forceDestroy?: pulumi.Input<boolean>;
  /**
   * The server scrubs the pool on its own this many hours (fractions allowed, at least 10 seconds) after the
   * last scrub finished; absent: only on demand (`dpl pool scrub`). Changing it is an in-place update; the
   * first run is due one interval after it was set.
   */
  scrubIntervalHours?: pulumi.Input<number>;
  /** The same for dedupe (sharing identical blocks between volumes and snapshots). */
  dedupeIntervalHours?: pulumi.Input<number>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Labels for people and policies, e.g. `{ environment: "production" }` (the dpl-guardrails policy pack
   * requires redundancy on production pools). Kept in the Pulumi state (DPL v1 pools have no tags); changing
   * them is an in-place update that touches nothing on the server.
   */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** A DPL storage pool: btrfs over image files or block devices (RAID, compression), or RBD images in a Ceph pool. */
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
  /** "Online", "Degraded" (a device is missing; the pool serves from redundancy) or "Offline". */
  declare public readonly state: pulumi.Output<string>;
  /** Every device with its state and btrfs error counters (read on create, update and refresh). */
  declare public readonly deviceHealth: pulumi.Output<PoolDeviceHealth[]>;
  /** The RAID level the server reports. */
  declare public readonly effectiveRaidLevel: pulumi.Output<string>;
  /** The compression the server reports. */
  declare public readonly effectiveCompression: pulumi.Output<string>;
  /**
   * When the server starts the next scheduled scrub (ISO 8601, as of the last create, update or refresh);
   * undefined when not scheduled.
   */
  declare public readonly nextScrubAt: pulumi.Output<string | undefined>;
  /** When the server starts the next scheduled dedupe; undefined when not scheduled. */
  declare public readonly nextDedupeAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: PoolArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "pool",
      objectId: declaredId("Pool", name),
      adopt: args.adopt,
      name: args.name,
      description: args.description,
      backend: args.backend,
      ceph: args.ceph,
      devices: args.devices,
      raidLevel: args.raidLevel,
      compression: args.compression,
      maxOversubscription: args.maxOversubscription,
      allowUnsafeRaid56: args.allowUnsafeRaid56,
      forceDestroy: args.forceDestroy,
      scrubIntervalHours: args.scrubIntervalHours,
      dedupeIntervalHours: args.dedupeIntervalHours,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      tags: args.tags,
      poolId: undefined,
      totalBytes: undefined,
      usedBytes: undefined,
      freeBytes: undefined,
      provisionedBytes: undefined,
      state: undefined,
      deviceHealth: undefined,
      effectiveRaidLevel: undefined,
      effectiveCompression: undefined,
      nextScrubAt: undefined,
      nextDedupeAt: undefined,
    }, opts, MODULE, "Pool");
  }
}
