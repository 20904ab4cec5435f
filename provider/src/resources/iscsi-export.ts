import { z } from "zod";
import { NotFoundError } from "../client";
import { withClient } from "../config/open-client";
import { ChapCredentials, HexId, Iqn, Portal, type IscsiExportEntry, type VolumeReply } from "../wire";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { containsUnknown, differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

/**
 * A volume exported over iSCSI to a set of initiators. The DPL server makes one target per
 * volume, so the resource's id is the volume's id.
 */
export const IscsiExportInputs = z
  .object({
    /** Take over the export the volume already has (its id must be the volume's). */
    adopt: HexId.optional(),
    volume: HexId,
    initiators: z.array(Iqn).min(1, "must list at least one initiator").max(64, "must list at most 64 initiators"),
    portals: z.array(Portal).max(16).optional(),
    chap: ChapCredentials.optional(),
    mutualChap: ChapCredentials.optional(),
    operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
  })
  .refine((v) => v.adopt === undefined || v.adopt === v.volume, { path: ["adopt"], message: "must be the exported volume's id (an export is adopted by its volume)" })
  .refine((v) => v.mutualChap === undefined || v.chap !== undefined, { path: ["mutualChap"], message: "needs chap as well (mutual CHAP authenticates both ways)" });
export type IscsiExportInputs = z.output<typeof IscsiExportInputs>;

const INPUT_KEYS = ["adopt", "volume", "initiators", "portals", "chap", "mutualChap", "operationTimeoutSeconds"] as const;
const AUTH_KEYS = ["portals", "chap", "mutualChap"] as const;

function initiatorSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()) : []);
}

function sameInitiators(a: unknown, b: unknown): boolean {
  const left = initiatorSet(a);
  const right = initiatorSet(b);
  return left.size === right.size && [...left].every((v) => right.has(v));
}

function checkExport(_olds: PropertyBag, news: PropertyBag): CheckResult {
  const validation = validateInputs(IscsiExportInputs, news);
  return validation.ok ? { inputs: news } : { inputs: news, failures: validation.failures };
}

function diffExport(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = differs(olds, news, "volume") ? ["volume"] : [];
  const initiatorsChanged = containsUnknown(news.initiators) || !sameInitiators(olds.initiators, news.initiators);
  const authChanged = AUTH_KEYS.some((key) => differs(olds, news, key));
  return {
    changes: replaces.length > 0 || initiatorsChanged || authChanged,
    replaces,
    stables: replaces.length > 0 ? [] : ["volume", "targetIqn", "lun"],
    deleteBeforeReplace: false,
  };
}

export function iscsiEntry(reply: VolumeReply): IscsiExportEntry | undefined {
  return reply.exports["Network/iSCSI"]?.[0];
}

function grantedInitiators(entry: IscsiExportEntry): string[] {
  return entry.permissions.flatMap((grant) => Object.keys(grant));
}

/** The portal as an iscsi:// URL host (IPv6 already comes bracketed: "[::1]:3260"). */
export function connectionInfo(entry: IscsiExportEntry, initiator: string | undefined, chapUser: string | undefined): PropertyBag {
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

function exportOutputs(entry: IscsiExportEntry, inputs: { initiators: string[]; chap?: { username: string } | undefined }): PropertyBag {
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
    const inputs = pick(props, INPUT_KEYS);
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

export const iscsiExportHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkExport(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffExport(id, olds, news)),
  create: createExport,
  read: readExport,
  update: updateExport,
  delete: deleteExport,
};
