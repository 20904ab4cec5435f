import { z } from "zod";
import { DplError, type DplClient } from "../client";
import { withClient } from "../config/open-client";
import { HexId, type VolumeReply } from "../wire";
import type { CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { childAddress, isImport } from "./import-inputs";
import { containsUnknown, differs, parseInputs, pick, withInputs } from "./input-validation";
import { OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace, replacing } from "./resource-definition";

/** A WWPN as 16 hex digits, with or without colons; sent in the protocol's colon form. */
export const Wwpn = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{16}|(?:[0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2})$/, "must be a WWPN: 16 hex digits, optionally as xx:xx:xx:xx:xx:xx:xx:xx")
  .transform((w) => w.replaceAll(":", "").toLowerCase().match(/../g)?.join(":") ?? w);

/**
 * A volume mapped over Fibre Channel to initiator WWPNs on one target WWPN (dpl-protocol §3.20,
 * §3.21). The id is `<volume>/<target wwpn>`: a volume may be mapped on several targets.
 */
const FcExportFields = z.object({
  volume: reference(HexId, "volume").describe("The volume to map (a Volume, a Clone or a volume id). Changing it maps the new volume (replace)."),
  targetWwpn: Wwpn.describe("The FC target port's WWPN (16 hex digits, colons optional). Changing it replaces the export."),
  initiatorWwpns: z.array(Wwpn).min(1, "must list at least one initiator WWPN").max(64, "must list at most 64 initiator WWPNs")
    .describe("WWPNs of the host's initiator ports allowed to see the LUN. Changes in place."),
  // 0 is a valid LUN (the historical client's D25 is not repeated).
  lun: z.number().int().min(0).max(255).optional().describe("The LUN to map the volume at (0 is valid); the server chooses when omitted."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export const FcExportInputs = FcExportFields;
export type FcExportInputs = z.output<typeof FcExportInputs>;
/** Which export of which volume: all a read needs to find it (an import knows no more). */
const FcExportAddress = FcExportFields.pick({ volume: true, targetWwpn: true, operationTimeoutSeconds: true });

const FcExportOutputs = z.object({
  assignedLun: z.number().nullable().describe("The LUN the initiators see the volume at (0 is a valid LUN)."),
  grantedInitiatorWwpns: z.array(z.string()).describe("The initiator WWPNs the server maps the volume to, in colon form."),
});

const INPUT_KEYS = Object.keys(FcExportFields.shape);

type FcEntry = NonNullable<VolumeReply["exports"]["Network/FC"]>[number];

const colonless = (wwpn: string): string => wwpn.replaceAll(":", "").toLowerCase();

function fcEntry(reply: VolumeReply, targetWwpn: string): FcEntry | undefined {
  return reply.exports["Network/FC"]?.find((entry) => colonless(entry.target_identifier) === colonless(targetWwpn));
}

/** Initiator → LUN as the volume reply grants them on the target (LUN 0 included). */
export function fcGrants(reply: VolumeReply, targetWwpn: string): Map<string, number> {
  const grants = new Map<string, number>();
  for (const permission of fcEntry(reply, targetWwpn)?.permissions ?? []) {
    for (const [initiator, lun] of Object.entries(permission)) grants.set(colonless(initiator), lun);
  }
  return grants;
}

/** The LUN of the first declared initiator granted; undefined only when none is (never "0 means no"). */
export function fcLunOf(reply: VolumeReply, targetWwpn: string, initiators: readonly string[]): number | undefined {
  const grants = fcGrants(reply, targetWwpn);
  for (const initiator of initiators) {
    const lun = grants.get(colonless(initiator));
    if (lun !== undefined) return lun;
  }
  return undefined;
}

/** "10:00:00:00:c9:12:34:56" from the server's colonless spelling. */
function withColons(wwpn: string): string {
  return wwpn.match(/../g)?.join(":") ?? wwpn;
}

function initiatorSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map(colonless) : []);
}

function initiatorsChanged(olds: PropertyBag, news: PropertyBag): boolean {
  const before = initiatorSet(olds.initiatorWwpns);
  const after = initiatorSet(news.initiatorWwpns);
  return containsUnknown(news.initiatorWwpns) || before.size !== after.size || [...before].some((w) => !after.has(w));
}

function outputs(reply: VolumeReply, inputs: FcExportInputs): z.output<typeof FcExportOutputs> {
  const grants = fcGrants(reply, inputs.targetWwpn);
  return {
    assignedLun: fcLunOf(reply, inputs.targetWwpn, inputs.initiatorWwpns) ?? null,
    grantedInitiatorWwpns: [...grants.keys()].map(withColons),
  };
}

/** The server's own refusal (e.g. "no FC target engine on this host"), said as the resource's. */
async function assign(client: DplClient, volume: string, inputs: FcExportInputs, initiators: string[]): Promise<VolumeReply> {
  try {
    return await client.assignFc(volume, { targetWwpn: inputs.targetWwpn, initiatorWwpns: initiators, lun: inputs.lun });
  } catch (err) {
    if (err instanceof DplError && err.code === "UNSUPPORTED") {
      throw new Error(`FCExport of volume ${volume}: the DPL server at ${client.endpoint} refused the Fibre Channel assignment: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function createFcExport(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(FcExportInputs, bag, "FCExport");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const reply = await assign(client, inputs.volume, inputs, inputs.initiatorWwpns);
    if (fcLunOf(reply, inputs.targetWwpn, inputs.initiatorWwpns) === undefined) {
      throw new Error(`FCExport of volume ${inputs.volume}: the assignment succeeded but target ${inputs.targetWwpn} grants none of ${inputs.initiatorWwpns.join(", ")}`);
    }
    return { id: `${inputs.volume}/${colonless(inputs.targetWwpn)}`, outs: { ...pick(bag, INPUT_KEYS), ...outputs(reply, inputs) } };
  });
}

/**
 * An import knows only the id, "<volume id>/<target WWPN>" (what create returns): the volume and
 * target come from it, the initiators from the target's grants (the LUN stays the server's choice).
 */
function importedFcAddress(id: string): PropertyBag {
  const { parent: volume, id: targetWwpn } = childAddress(id, undefined, { what: "an FC export", parent: "volume id", own: "target WWPN" });
  return { volume, targetWwpn };
}

async function readFcExport(id: string, props: PropertyBag): Promise<ReadResult> {
  const imported = isImport(props);
  const state = imported ? importedFcAddress(id) : props;
  const address = parseInputs(FcExportAddress, state, "FCExport");
  const declaredWwpns = imported ? [] : parseInputs(FcExportInputs, props, "FCExport").initiatorWwpns;
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolume(address.volume);
    if (reply === undefined || fcEntry(reply, address.targetWwpn) === undefined) return { id: "" };
    const live = [...fcGrants(reply, address.targetWwpn).keys()];
    const declared = pick(state, INPUT_KEYS);
    declared.initiatorWwpns = imported ? live.map(withColons) : declaredWwpns.filter((w) => live.includes(colonless(w)));
    const inputs = { ...address, initiatorWwpns: imported ? live : declaredWwpns };
    return { id, props: { ...props, ...declared, ...outputs(reply, inputs) }, inputs: declared };
  });
}

async function updateFcExport(_id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(FcExportInputs, news, "FCExport");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const before = initiatorSet(olds.initiatorWwpns);
    const after = initiatorSet(inputs.initiatorWwpns);
    const added = inputs.initiatorWwpns.filter((w) => !before.has(colonless(w)));
    const removed = [...before].filter((w) => !after.has(w)).map((w) => w.match(/../g)?.join(":") ?? w);
    // Grant first, revoke second: a host moving between ports never loses its LUN.
    if (added.length > 0) await assign(client, inputs.volume, inputs, added);
    if (removed.length > 0) await client.unassignFc(inputs.volume, { targetWwpn: inputs.targetWwpn, initiatorWwpns: removed });
    const reply = await client.getVolume(inputs.volume);
    if (reply === undefined) throw new Error(`FCExport: volume ${inputs.volume} is gone`);
    return { outs: { ...withInputs(olds, news, INPUT_KEYS), ...outputs(reply, inputs) } };
  });
}

async function deleteFcExport(_id: string, props: PropertyBag): Promise<void> {
  const inputs = parseInputs(FcExportInputs, props, "FCExport");
  await withClient(timeoutOf(props), (client) =>
    client.unassignFc(inputs.volume, { targetWwpn: inputs.targetWwpn, initiatorWwpns: inputs.initiatorWwpns }));
}

const sameWwpn = (v: unknown): unknown => (typeof v === "string" ? colonless(v) : v);

export const fcExportDefinition = defineResource({
  kind: "fcExport",
  typeName: "FCExport",
  description: "Maps a volume over Fibre Channel to a host's initiator WWPNs on one target port. Needs a DPL server with an FC target engine: "
    + "one without it refuses at `pulumi up` with its own message.",
  inputs: FcExportFields,
  outputs: FcExportOutputs,
  changes: {
    volume: replacing("a mapping of another volume is another mapping"),
    targetWwpn: replacing("a mapping lives on one target port", { changed: (olds, news) => differs(olds, news, "targetWwpn", sameWwpn) }),
    lun: replacing("DPL cannot move a mapping to another LUN"),
    initiatorWwpns: inPlace("initiators are granted or revoked (granted first)", { changed: initiatorsChanged }),
  },
  stables: ["volume", "targetWwpn"],
  deleteBeforeReplace: true,
  create: createFcExport,
  read: readFcExport,
  update: updateFcExport,
  delete: deleteFcExport,
});
