import { z } from "zod";
import { NotFoundError } from "../client";
import { withClient } from "../config/open-client";
import { ChapCredentials, HexId, Iqn, Portal, type IscsiExportEntry, type VolumeReply } from "../wire";
import type { CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { isImport } from "./import-inputs";
import { containsUnknown, differs, parseInputs, pick, withInputs } from "./input-validation";
import { named, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace, replacing } from "./resource-definition";

const Chap = named(ChapCredentials, "ChapArgs", "CHAP credentials (RFC 3720): the secret must be 12 to 16 printable characters.");

/**
 * A volume exported over iSCSI to a set of initiators. The DPL server makes one target per
 * volume, so the resource's id is the volume's id.
 */
const IscsiExportFields = z.object({
  adopt: HexId.optional().describe(
    "Take over the iSCSI export the volume already has: give the volume's id. The export must already grant exactly `initiators`; nothing on the server changes.",
  ),
  volume: reference(HexId, "volume").describe("The volume to export (a Volume, a Clone or a volume id). Changing it re-exports the new volume (replace)."),
  initiators: z.array(Iqn).min(1, "must list at least one initiator").max(64, "must list at most 64 initiators")
    .describe("IQNs of the initiators allowed to log in. Adding or removing one changes the export in place."),
  portals: z.array(Portal).max(16).optional().describe("Portals (\"host:port\") the target should listen on; the server's default portal when omitted."),
  chap: Chap.optional().describe("CHAP the initiators must use to log in. Changes in place. Kept secret in the state."),
  mutualChap: Chap.optional().describe("Mutual CHAP: credentials the target presents to the initiator (needs `chap`). Kept secret in the state."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export const IscsiExportInputs = IscsiExportFields
  .refine((v) => v.adopt === undefined || v.adopt === v.volume, { path: ["adopt"], message: "must be the exported volume's id (an export is adopted by its volume)" })
  .refine((v) => v.mutualChap === undefined || v.chap !== undefined, { path: ["mutualChap"], message: "needs chap as well (mutual CHAP authenticates both ways)" });
export type IscsiExportInputs = z.output<typeof IscsiExportInputs>;

const INPUT_KEYS = Object.keys(IscsiExportFields.shape);
const AUTH_KEYS = ["portals", "chap", "mutualChap"] as const;

function initiatorSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()) : []);
}

function sameInitiators(a: unknown, b: unknown): boolean {
  const left = initiatorSet(a);
  const right = initiatorSet(b);
  return left.size === right.size && [...left].every((v) => right.has(v));
}

export function iscsiEntry(reply: VolumeReply): IscsiExportEntry | undefined {
  return reply.exports["Network/iSCSI"]?.[0];
}

function grantedInitiators(entry: IscsiExportEntry): string[] {
  return entry.permissions.flatMap((grant) => Object.keys(grant));
}

/** The portal as an iscsi:// URL host (IPv6 already comes bracketed: "[::1]:3260"). */
export function connectionInfo(entry: IscsiExportEntry, initiator: string | undefined, chapUser: string | undefined): z.output<typeof ConnectionInfo> {
  const portal = entry.portals[0] ?? "";
  const iqn = entry.target_identifier;
  const lun = entry.logical_unit_number;
  const host = portal.replace(/:\d+$/, "");
  const auth = chapUser === undefined ? "" : `,user=${chapUser},password=<chap secret>`;
  const imageOpts = `driver=iscsi,transport=tcp,portal=${portal},target=${iqn},lun=${lun}${initiator === undefined ? "" : `,initiator-name=${initiator}`}${auth}`;
  return {
    portal,
    targetIqn: iqn,
    lun,
    iscsiUrl: `iscsi://${portal}/${iqn}/${lun}`,
    qemuImageOpts: imageOpts,
    qemuImgCommand: `qemu-img info --image-opts ${imageOpts}`,
    iscsiadmCommands: [
      `iscsiadm -m discovery -t sendtargets -p ${portal}`,
      `iscsiadm -m node -T ${iqn} -p ${portal} --login`,
    ].join(" && "),
    host,
  };
}

const ConnectionInfo = named(z.object({
  portal: z.string().describe("First portal, \"host:port\"."),
  targetIqn: z.string(),
  lun: z.number(),
  iscsiUrl: z.string().describe("`iscsi://portal/iqn/lun`, for libiscsi tools (qemu-img, qemu-io, iscsi-ls)."),
  qemuImageOpts: z.string().describe("`--image-opts` for qemu-img/qemu-io, with the first initiator's name (and a CHAP placeholder)."),
  qemuImgCommand: z.string().describe("A qemu-img command that reads the LUN's header."),
  iscsiadmCommands: z.string().describe("open-iscsi discovery and login commands for a Linux host."),
  host: z.string().describe("The portal's host."),
}), "ISCSIConnectionInfo", "What a host needs to attach the exported LUN.");

const IscsiExportOutputs = z.object({
  targetIqn: z.string().describe("The target's IQN (the server chooses it)."),
  lun: z.number().describe("The LUN the volume has on the target."),
  exportedPortals: z.array(z.string()).describe("The portals the target listens on."),
  grantedInitiators: z.array(z.string()).describe("The initiators the server lets in."),
  authentication: z.string().describe("\"None\" or \"CHAP\"."),
  connection: ConnectionInfo.describe("Everything a host needs to attach (portal, IQN, LUN, ready-made commands)."),
});

function exportOutputs(entry: IscsiExportEntry, inputs: { initiators: string[]; chap?: { username: string } | undefined }): z.output<typeof IscsiExportOutputs> {
  return {
    targetIqn: entry.target_identifier,
    lun: entry.logical_unit_number,
    exportedPortals: entry.portals,
    grantedInitiators: grantedInitiators(entry),
    authentication: entry.authentication.method,
    connection: connectionInfo(entry, inputs.initiators[0], inputs.chap?.username),
  };
}

function assignment(inputs: IscsiExportInputs, initiators: string[]): { initiators: string[]; portals?: string[]; chap?: { username: string; secret: string }; mutualChap?: { username: string; secret: string } } {
  return {
    initiators,
    ...(inputs.portals === undefined ? {} : { portals: inputs.portals }),
    ...(inputs.chap === undefined ? {} : { chap: inputs.chap }),
    ...(inputs.mutualChap === undefined ? {} : { mutualChap: inputs.mutualChap }),
  };
}

function exportedEntry(reply: VolumeReply | undefined, volume: string): IscsiExportEntry {
  const entry = reply === undefined ? undefined : iscsiEntry(reply);
  if (entry === undefined) throw new Error(`volume ${volume} has no iSCSI export after the assignment`);
  return entry;
}

async function createExport(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(IscsiExportInputs, bag, "ISCSIExport");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    if (inputs.adopt !== undefined) {
      const current = await client.getVolume(inputs.volume);
      const entry = current === undefined ? undefined : iscsiEntry(current);
      if (entry === undefined) throw new Error(`cannot adopt the export of volume ${inputs.volume}: it is not exported over iSCSI`);
      if (!sameInitiators(grantedInitiators(entry), inputs.initiators)) {
        throw new Error(`cannot adopt the export of volume ${inputs.volume}: it grants ${grantedInitiators(entry).join(", ")}, the program declares ${inputs.initiators.join(", ")}`);
      }
      return { id: inputs.volume, outs: { ...pick(bag, INPUT_KEYS), ...exportOutputs(entry, inputs) } };
    }
    await client.assignIscsi(inputs.volume, assignment(inputs, inputs.initiators));
    const entry = exportedEntry(await client.getVolume(inputs.volume), inputs.volume);
    return { id: inputs.volume, outs: { ...pick(bag, INPUT_KEYS), ...exportOutputs(entry, inputs) } };
  });
}

async function readExport(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolume(id);
    const entry = reply === undefined ? undefined : iscsiEntry(reply);
    if (entry === undefined) return { id: "" };
    // An export's id is its volume's; CHAP secrets cannot be read back, so an import declares none.
    const inputs = isImport(props) ? { volume: id } : pick(props, INPUT_KEYS);
    const live = grantedInitiators(entry);
    // Keep the user's spelling of initiators still granted, so only real drift shows.
    const declared = Array.isArray(inputs.initiators) ? inputs.initiators.filter((v): v is string => typeof v === "string") : [];
    inputs.initiators = live.map((granted) => declared.find((d) => d.toLowerCase() === granted.toLowerCase()) ?? granted);
    const initiators = inputs.initiators as string[];
    const chap = props.chap as { username: string } | undefined;
    return { id, props: { ...props, ...inputs, ...exportOutputs(entry, { initiators, chap }) }, inputs };
  });
}

async function updateExport(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(IscsiExportInputs, news, "ISCSIExport");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const before = initiatorSet(olds.initiators);
    const after = initiatorSet(inputs.initiators);
    const added = inputs.initiators.filter((i) => !before.has(i.toLowerCase()));
    const removed = [...before].filter((i) => !after.has(i));
    const authChanged = AUTH_KEYS.some((key) => differs(olds, news, key));
    // Grant first, revoke second: an initiator moving between spellings is never locked out.
    if (authChanged) await client.assignIscsi(id, assignment(inputs, inputs.initiators));
    else if (added.length > 0) await client.assignIscsi(id, assignment(inputs, added));
    if (removed.length > 0) await client.unassignIscsi(id, removed);
    const entry = exportedEntry(await client.getVolume(id), id);
    return { outs: { ...withInputs(olds, news, INPUT_KEYS), ...exportOutputs(entry, inputs) } };
  });
}

async function deleteExport(id: string, props: PropertyBag): Promise<void> {
  await withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolume(id);
    const entry = reply === undefined ? undefined : iscsiEntry(reply);
    if (entry === undefined) return;
    const granted = grantedInitiators(entry);
    if (granted.length === 0) return;
    try {
      await client.unassignIscsi(id, granted);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  });
}

const authChange = "the target's login settings change; the LUN and its data stay";

export const iscsiExportDefinition = defineResource({
  kind: "iscsiExport",
  typeName: "ISCSIExport",
  description: "Exports a volume over iSCSI to a set of initiators (one target per volume on the DPL server), optionally with CHAP and mutual CHAP.",
  inputs: IscsiExportFields,
  validation: IscsiExportInputs,
  outputs: IscsiExportOutputs,
  changes: {
    volume: replacing("an export of another volume is another target"),
    initiators: inPlace("initiators are granted or revoked (granted first)", {
      changed: (olds, news) => containsUnknown(news.initiators) || !sameInitiators(olds.initiators, news.initiators),
    }),
    portals: inPlace(authChange),
    chap: inPlace(authChange),
    mutualChap: inPlace(authChange),
  },
  stables: ["volume", "targetIqn", "lun"],
  secrets: ["chap", "mutualChap"],
  create: createExport,
  read: readExport,
  update: updateExport,
  delete: deleteExport,
});
