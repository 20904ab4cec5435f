import { z } from "zod";
import { DplError, type DplClient } from "../client";
import { withClient } from "../config/open-client";
import { HexId, type VolumeReply } from "../wire";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { containsUnknown, differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

/** A WWPN as 16 hex digits, with or without colons; sent in the protocol's colon form. */
export const Wwpn = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{16}|(?:[0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2})$/, "must be a WWPN: 16 hex digits, optionally as xx:xx:xx:xx:xx:xx:xx:xx")
  .transform((w) => w.replaceAll(":", "").toLowerCase().match(/../g)?.join(":") ?? w);

/**
 * A volume mapped over Fibre Channel to initiator WWPNs on one target WWPN (dpl-protocol §3.20,
 * §3.21). The id is `<volume>/<target wwpn>`: a volume may be mapped on several targets.
 */
export const FcExportInputs = z.object({
  volume: HexId,
  targetWwpn: Wwpn,
  initiatorWwpns: z.array(Wwpn).min(1, "must list at least one initiator WWPN").max(64, "must list at most 64 initiator WWPNs"),
  /** Omitted: the server chooses. 0 is a valid LUN (the historical client's D25 is not repeated). */
  lun: z.number().int().min(0).max(255).optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});
export type FcExportInputs = z.output<typeof FcExportInputs>;

const INPUT_KEYS = ["volume", "targetWwpn", "initiatorWwpns", "lun", "operationTimeoutSeconds"] as const;
const REPLACE_KEYS = ["volume", "targetWwpn", "lun"] as const;

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

function checkFcExport(_olds: PropertyBag, news: PropertyBag): CheckResult {
  const validation = validateInputs(FcExportInputs, news);
  return validation.ok ? { inputs: news } : { inputs: news, failures: validation.failures };
}

function initiatorSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map(colonless) : []);
}

function diffFcExport(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = REPLACE_KEYS.filter((key) => differs(olds, news, key, (v) => (typeof v === "string" ? colonless(v) : v)));
  const before = initiatorSet(olds.initiatorWwpns);
  const after = initiatorSet(news.initiatorWwpns);
  const initiatorsChanged = containsUnknown(news.initiatorWwpns) || before.size !== after.size || [...before].some((w) => !after.has(w));
  return { changes: replaces.length > 0 || initiatorsChanged, replaces, stables: replaces.length > 0 ? [] : ["volume", "targetWwpn"], deleteBeforeReplace: true };
}

function outputs(reply: VolumeReply, inputs: FcExportInputs): PropertyBag {
  const grants = fcGrants(reply, inputs.targetWwpn);
  return {
    assignedLun: fcLunOf(reply, inputs.targetWwpn, inputs.initiatorWwpns) ?? null,
    grantedInitiatorWwpns: [...grants.keys()].map((w) => w.match(/../g)?.join(":") ?? w),
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

async function readFcExport(id: string, props: PropertyBag): Promise<ReadResult> {
  const inputs = parseInputs(FcExportInputs, props, "FCExport");
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolume(inputs.volume);
    if (reply === undefined || fcEntry(reply, inputs.targetWwpn) === undefined) return { id: "" };
    const live = [...fcGrants(reply, inputs.targetWwpn).keys()];
    const declared = pick(props, INPUT_KEYS);
    declared.initiatorWwpns = inputs.initiatorWwpns.filter((w) => live.includes(colonless(w)));
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

export const fcExportHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkFcExport(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffFcExport(id, olds, news)),
  create: createFcExport,
  read: readFcExport,
  update: updateFcExport,
  delete: deleteFcExport,
};
