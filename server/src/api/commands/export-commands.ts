/** Export assign / unassign bodies (dpl-protocol.md §2.5) as core's grants and revocations. */
import type { ExportAssignBody, ExportUnassignBody } from "@prophetstor/dpl-provider/wire";
import type { z } from "zod";
import type { ExportGrant, ExportRevocation } from "../../core/commands";
import type { WireCommand } from "./wire-command";

const ISCSI = "exports.Network/iSCSI";
const FC_FIELDS = { protocol: "exports.Network/FC" };

export function exportGrant(body: z.output<typeof ExportAssignBody>): WireCommand<ExportGrant> {
  const exports = body.exports;
  if (!("Network/iSCSI" in exports)) return { command: { protocol: "fc" }, fields: FC_FIELDS };
  const iscsi = exports["Network/iSCSI"];
  const auth = iscsi.authentication;
  return {
    command: {
      protocol: "iscsi",
      lun: iscsi.logical_unit_number,
      logicalUnitName: iscsi.logical_unit_name,
      initiators: iscsi.permissions,
      authentication: auth === undefined ? undefined : { chap: auth.chap ?? null, mutualChap: auth.mutual_chap ?? null },
    },
    fields: {
      lun: `${ISCSI}.logical_unit_number`,
      logicalUnitName: `${ISCSI}.logical_unit_name`,
      initiators: `${ISCSI}.permissions`,
      authentication: `${ISCSI}.authentication`,
      "authentication.mutualChap": `${ISCSI}.authentication.mutual_chap`,
    },
  };
}

export function exportRevocation(body: z.output<typeof ExportUnassignBody>): WireCommand<ExportRevocation> {
  const exports = body.exports;
  if (!("Network/iSCSI" in exports)) return { command: { protocol: "fc" }, fields: FC_FIELDS };
  const iscsi = exports["Network/iSCSI"];
  return {
    command: { protocol: "iscsi", targetIqn: iscsi.target_identifier, initiators: iscsi.permissions },
    fields: { targetIqn: `${ISCSI}.target_identifier`, initiators: `${ISCSI}.permissions` },
  };
}
