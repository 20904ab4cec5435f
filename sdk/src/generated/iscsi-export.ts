// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { volumeIdOf, type VolumeReference } from "../references";
import type { ChapArgs, ISCSIConnectionInfo } from "./types";

export interface ISCSIExportArgs {
  /**
   * Take over the iSCSI export the volume already has: give the volume's id. The export must already grant
   * exactly `initiators`; nothing on the server changes.
   */
  adopt?: pulumi.Input<string>;
  /** The volume to export (a Volume, a Clone or a volume id). Changing it re-exports the new volume (replace). */
  volume: VolumeReference;
  /** IQNs of the initiators allowed to log in. Adding or removing one changes the export in place. */
  initiators: pulumi.Input<pulumi.Input<string>[]>;
  /** Portals ("host:port") the target should listen on; the server's default portal when omitted. */
  portals?: pulumi.Input<pulumi.Input<string>[]>;
  /** CHAP the initiators must use to log in. Changes in place. Kept secret in the state. */
  chap?: pulumi.Input<ChapArgs>;
  /** Mutual CHAP: credentials the target presents to the initiator (needs `chap`). Kept secret in the state. */
  mutualChap?: pulumi.Input<ChapArgs>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * Exports a volume over iSCSI to a set of initiators (one target per volume on the DPL server), optionally
 * with CHAP and mutual CHAP.
 */
export class ISCSIExport extends pulumi.dynamic.Resource {
  /** The target's IQN (the server chooses it). */
  declare public readonly targetIqn: pulumi.Output<string>;
  /** The LUN the volume has on the target. */
  declare public readonly lun: pulumi.Output<number>;
  /** The portals the target listens on. */
  declare public readonly exportedPortals: pulumi.Output<string[]>;
  /** The initiators the server lets in. */
  declare public readonly grantedInitiators: pulumi.Output<string[]>;
  /** "None" or "CHAP". */
  declare public readonly authentication: pulumi.Output<string>;
  /** Everything a host needs to attach (portal, IQN, LUN, ready-made commands). */
  declare public readonly connection: pulumi.Output<ISCSIConnectionInfo>;

  constructor(name: string, args: ISCSIExportArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "iscsiExport",
      adopt: args.adopt,
      volume: volumeIdOf(args.volume),
      initiators: args.initiators,
      portals: args.portals,
      chap: args.chap === undefined ? undefined : pulumi.secret(args.chap),
      mutualChap: args.mutualChap === undefined ? undefined : pulumi.secret(args.mutualChap),
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      targetIqn: undefined,
      lun: undefined,
      exportedPortals: undefined,
      grantedInitiators: undefined,
      authentication: undefined,
      connection: undefined,
    }, { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "chap", "mutualChap"] }, MODULE, "ISCSIExport");
  }
}
