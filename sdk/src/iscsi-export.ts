import * as pulumi from "@pulumi/pulumi";
import { MODULE, type DplResourceArgs } from "./declaration";
import { dplProvider } from "./provider-shim";
import { volumeIdOf, type VolumeReference } from "./references";

/** CHAP credentials (RFC 3720): the secret must be 12 to 16 printable characters. */
export interface ChapArgs {
  username: pulumi.Input<string>;
  /** Stored only as a Pulumi secret (encrypted in the state); the server never returns it. */
  secret: pulumi.Input<string>;
}

export interface ISCSIExportArgs extends Omit<DplResourceArgs, "adopt"> {
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
   * Take over the iSCSI export the volume already has: give the volume's id. The export must
   * already grant exactly `initiators`; nothing on the server changes.
   */
  adopt?: pulumi.Input<string>;
}

/** What a host needs to attach the exported LUN. */
export interface ISCSIConnectionInfo {
  /** First portal, "host:port". */
  portal: string;
  targetIqn: string;
  lun: number;
  /** `iscsi://portal/iqn/lun`, for libiscsi tools (qemu-img, qemu-io, iscsi-ls). */
  iscsiUrl: string;
  /** `--image-opts` for qemu-img/qemu-io, with the first initiator's name (and a CHAP placeholder). */
  qemuImageOpts: string;
  /** A qemu-img command that reads the LUN's header. */
  qemuImgCommand: string;
  /** open-iscsi discovery and login commands for a Linux host. */
  iscsiadmCommands: string;
  /** The portal's host. */
  host: string;
}

/**
 * Exports a volume over iSCSI to a set of initiators (one target per volume on the DPL server),
 * optionally with CHAP and mutual CHAP.
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
    const secretOutputs = ["chap", "mutualChap"];
    super(dplProvider, name, {
      dplKind: "iscsiExport",
      adopt: args.adopt,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      volume: volumeIdOf(args.volume),
      initiators: args.initiators,
      portals: args.portals,
      chap: args.chap === undefined ? undefined : pulumi.secret(args.chap),
      mutualChap: args.mutualChap === undefined ? undefined : pulumi.secret(args.mutualChap),
      targetIqn: undefined,
      lun: undefined,
      exportedPortals: undefined,
      grantedInitiators: undefined,
      authentication: undefined,
      connection: undefined,
    }, { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secretOutputs] }, MODULE, "ISCSIExport");
  }
}
