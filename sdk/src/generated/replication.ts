// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { poolIdOf, type PoolReference, volumeIdOf, type VolumeReference, volumeGroupIdOf, type VolumeGroupReference } from "../references";
import type { ReplicationCredentialsArgs } from "./types";

export interface ReplicationArgs {
  /**
   * The volume to replicate (a Volume, a Clone or a volume id); or, instead, `volumeGroup`. Changing it makes
   * a new replication.
   */
  volume?: VolumeReference;
  /**
   * A volume group: every member is snapshotted at one instant and the replicas are published together, so
   * they share a point in time. Changing it makes a new replication.
   */
  volumeGroup?: VolumeGroupReference;
  /**
   * The URL of the DPL server that holds the replica, as the source server reaches it. Changing it makes a
   * new replication.
   */
  targetUrl: pulumi.Input<string>;
  /**
   * How the source server logs in to the target; read at run time (use a config secret) and kept secret in
   * the state. Changes in place.
   */
  targetCredentials: pulumi.Input<ReplicationCredentialsArgs>;
  /**
   * PEM of the target's certificate (or its CA), trusted for this target only; absent: the system's CAs.
   * Changes in place.
   */
  targetCaCertificate?: pulumi.Input<string>;
  /** The pool on the target server for the replicas (its id there). Changing it makes a new replication. */
  targetPool: PoolReference;
  /** Display name (changes in place). */
  name?: pulumi.Input<string>;
  /**
   * Recovery point objective: a sync starts when the last synced snapshot is this many seconds old (at least
   * 10). Absent: syncs run on demand only. Changes in place.
   */
  rpoSeconds?: pulumi.Input<number>;
  /** Caps the bytes per second a sync sends; absent: as fast as the link goes. Changes in place. */
  rateLimitBytesPerSecond?: pulumi.Input<number>;
  /**
   * Any values; when one changes, `pulumi up` runs a sync now and waits for it (an on-demand sync, in place).
   * E.g. `[1]`, bumped to `[2]`.
   */
  syncTriggers?: pulumi.Input<pulumi.Input<unknown>[]>;
  /**
   * Create waits for a first full sync, so the replica exists when `pulumi up` ends (default true). A first
   * sync that fails undoes the create.
   */
  initialSync?: pulumi.Input<boolean>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * Asynchronous, snapshot-based replication of a volume or a volume group to another DPL server: incremental
 * btrfs send streams over the servers' authenticated HTTPS, resumable after a cut link, verified before the
 * replica's snapshot is published. The replica is read-only until a Failover promotes it. Destroying the
 * resource ends the relationship on both servers; no volume is deleted.
 */
export class Replication extends pulumi.dynamic.Resource {
  /** The replication's DPL id (32 hex characters), the same on both servers and the same as the resource id. */
  declare public readonly replicationId: pulumi.Output<string>;
  /** This server's side: `source`, or `target` once the direction was reversed after a failover. */
  declare public readonly role: pulumi.Output<string>;
  /** `idle`, `syncing` or `error` on a source; `replica` or `promoted` on a target. */
  declare public readonly state: pulumi.Output<string>;
  /** The volumes the relationship carries (the same ids on the target: the replicas). */
  declare public readonly replicaVolumeIds: pulumi.Output<string[]>;
  /** When the snapshots both sides hold were taken on the source (ISO 8601): the replicas' point in time. */
  declare public readonly lastSyncedAt: pulumi.Output<string | undefined>;
  /** How far the replicas are behind, in seconds, when last read. */
  declare public readonly lagSeconds: pulumi.Output<number | undefined>;
  /** Stream bytes the last sync sent. */
  declare public readonly lastSyncBytes: pulumi.Output<number>;
  /** Stream bytes sent over the relationship's life. */
  declare public readonly totalBytesSent: pulumi.Output<number>;
  /** Why the last sync failed (absent when it did not). */
  declare public readonly lastError: pulumi.Output<string | undefined>;

  constructor(name: string, args: ReplicationArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "replication",
      objectId: declaredId("Replication", name),
      volume: args.volume === undefined ? undefined : volumeIdOf(args.volume),
      volumeGroup: args.volumeGroup === undefined ? undefined : volumeGroupIdOf(args.volumeGroup),
      targetUrl: args.targetUrl,
      targetCredentials: pulumi.secret(args.targetCredentials),
      targetCaCertificate: args.targetCaCertificate,
      targetPool: poolIdOf(args.targetPool),
      name: args.name,
      rpoSeconds: args.rpoSeconds,
      rateLimitBytesPerSecond: args.rateLimitBytesPerSecond,
      syncTriggers: args.syncTriggers,
      initialSync: args.initialSync,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      replicationId: undefined,
      role: undefined,
      state: undefined,
      replicaVolumeIds: undefined,
      lastSyncedAt: undefined,
      lagSeconds: undefined,
      lastSyncBytes: undefined,
      totalBytesSent: undefined,
      lastError: undefined,
    }, { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "targetCredentials"] }, MODULE, "Replication");
  }
}
