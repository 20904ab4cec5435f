/**
 * What the export calls take and give: iSCSI and Fibre Channel assignments in the provider's
 * vocabulary, the iSCSI wire export they become, and the summaries list calls return.
 */
import type { ChapCredentials, ExportAssignBody, VolumeReply } from "../wire";
import type { z } from "zod";
import type { IscsiConnection } from "./iscsi-connection";

export interface NamedId {
  id: string;
  name: string;
}
export interface TargetSummary extends NamedId {
  address: string;
}

export interface IscsiAssignment {
  /** Initiator IQNs allowed to log in (sent lower-cased: IQNs are case-insensitive). */
  initiators: string[];
  /** Portals ("host:port", "[v6]:port") the target should listen on; server default when omitted. */
  portals?: string[] | undefined;
  /** 0 or omitted: the server chooses. */
  lun?: number | undefined;
  lunName?: string | undefined;
  chap?: ChapCredentials | undefined;
  mutualChap?: ChapCredentials | undefined;
}

/** A Fibre Channel assignment as the protocol writes it (dpl-protocol §3.20): WWPNs in colon form. */
export interface FcAssignment {
  targetWwpn: string;
  initiatorWwpns: string[];
  /** -1 or omitted: the server chooses. LUN 0 is a valid LUN (unlike the historical client, D25). */
  lun?: number | undefined;
  lunName?: string | undefined;
}

export interface IscsiAttachment {
  volume: VolumeReply;
  /** One per requested initiator, in the order given. */
  connections: IscsiConnection[];
}

type IscsiExport = Extract<z.input<typeof ExportAssignBody>["exports"], { "Network/iSCSI": unknown }>["Network/iSCSI"];

/** The assign body's iSCSI export: initiators lower-cased (IQNs are case-insensitive), LUN 0 = server's choice. */
export function iscsiAssignExport(assignment: IscsiAssignment): IscsiExport {
  const authentication =
    assignment.chap === undefined && assignment.mutualChap === undefined
      ? undefined
      : { ...(assignment.chap === undefined ? {} : { chap: assignment.chap }), ...(assignment.mutualChap === undefined ? {} : { mutual_chap: assignment.mutualChap }) };
  return {
    logical_unit_number: assignment.lun ?? 0,
    permissions: assignment.initiators.map((iqn) => iqn.toLowerCase()),
    ...(assignment.lunName === undefined ? {} : { logical_unit_name: assignment.lunName }),
    ...(assignment.portals === undefined ? {} : { portals: assignment.portals }),
    ...(authentication === undefined ? {} : { authentication }),
  };
}
