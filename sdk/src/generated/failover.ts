// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { declaredId, MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import type { DplServerArgs } from "./types";

export interface FailoverArgs {
  /** The replication whose replica becomes writable (a Replication's id). */
  replication: pulumi.Input<string>;
  /**
   * The server that holds the replica, where the promote runs (the Replication's target). Kept secret in the
   * state.
   */
  replicaServer: pulumi.Input<DplServerArgs>;
  /**
   * After the promote, make the promoted side the source toward this server (the old source, as the replica's
   * server reaches it): the old source's volumes become replicas and catch up incrementally from the snapshot
   * both hold. Its volumes must not be exported. Kept secret in the state.
   */
  reverseTo?: pulumi.Input<DplServerArgs>;
  /** Any values; when one changes, the failover runs again (like pulumi-command's `triggers`). */
  triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * An action: creating it promotes a replication's replica (writable and exportable, syncs into it stop) on
 * the server that holds it, and with `reverseTo` turns the relationship round so that the old source catches
 * up incrementally (failback: fail over once more the other way). Changing the replication or a trigger fails
 * over again (new server credentials do not); deleting it does nothing on the servers, so it never fires by
 * accident.
 */
export class Failover extends pulumi.dynamic.Resource {
  /** When the replica was promoted (ISO 8601). */
  declare public readonly promotedAt: pulumi.Output<string>;
  /** The volumes that became writable on the replica's server. */
  declare public readonly promotedVolumeIds: pulumi.Output<string[]>;
  /** Whether the relationship now runs from the promoted side toward `reverseTo`. */
  declare public readonly reversed: pulumi.Output<boolean>;

  constructor(name: string, args: FailoverArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "failover",
      objectId: declaredId("Failover", name),
      replication: args.replication,
      replicaServer: pulumi.secret(args.replicaServer),
      reverseTo: args.reverseTo === undefined ? undefined : pulumi.secret(args.reverseTo),
      triggers: args.triggers,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      promotedAt: undefined,
      promotedVolumeIds: undefined,
      reversed: undefined,
    }, { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "replicaServer", "reverseTo"] }, MODULE, "Failover");
  }
}
