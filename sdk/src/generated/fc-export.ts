// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import * as pulumi from "@pulumi/pulumi";
import { MODULE } from "../declaration";
import { dplProvider } from "../provider-shim";
import { volumeIdOf, type VolumeReference } from "../references";

export interface FCExportArgs {
  /** The volume to map (a Volume, a Clone or a volume id). Changing it maps the new volume (replace). */
  volume: VolumeReference;
  /** The FC target port's WWPN (16 hex digits, colons optional). Changing it replaces the export. */
  targetWwpn: pulumi.Input<string>;
  /** WWPNs of the host's initiator ports allowed to see the LUN. Changes in place. */
  initiatorWwpns: pulumi.Input<pulumi.Input<string>[]>;
  /** The LUN to map the volume at (0 is valid); the server chooses when omitted. */
  lun?: pulumi.Input<number>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default
   * 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * Maps a volume over Fibre Channel to a host's initiator WWPNs on one target port. Needs a DPL server with an
 * FC target engine: one without it refuses at `pulumi up` with its own message.
 */
export class FCExport extends pulumi.dynamic.Resource {
  /** The LUN the initiators see the volume at (0 is a valid LUN). */
  declare public readonly assignedLun: pulumi.Output<number | null>;
  /** The initiator WWPNs the server maps the volume to, in colon form. */
  declare public readonly grantedInitiatorWwpns: pulumi.Output<string[]>;

  constructor(name: string, args: FCExportArgs, opts?: pulumi.CustomResourceOptions) {
    super(dplProvider, name, {
      dplKind: "fcExport",
      volume: volumeIdOf(args.volume),
      targetWwpn: args.targetWwpn,
      initiatorWwpns: args.initiatorWwpns,
      lun: args.lun,
      operationTimeoutSeconds: args.operationTimeoutSeconds,
      assignedLun: undefined,
      grantedInitiatorWwpns: undefined,
    }, opts, MODULE, "FCExport");
  }
}
