import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolgroupReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { containsUnknown, differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { isoTimeOf } from "./server-time";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

/**
 * A volume group (DPL's consistency group): the volumes a GroupSnapshot snapshots together.
 * Membership changes in place (join/leave); deleting the group keeps its volumes.
 */
export const VolumeGroupInputs = z.object({
  objectId: HexId,
  adopt: HexId.optional(),
  volumes: z.array(HexId).max(256, "must list at most 256 volumes")
    .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, "must not list a volume twice"),
  name: DisplayName.optional(),
  description: Description.optional(),
  maximumSnapshots: z.number().int().positive().max(1024).optional(),
  snapshotRotation: z.boolean().optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});
export type VolumeGroupInputs = z.output<typeof VolumeGroupInputs>;

const INPUT_KEYS = ["objectId", "adopt", "volumes", "name", "description", "maximumSnapshots", "snapshotRotation", "operationTimeoutSeconds"] as const;
/** DPL has no group modify besides join/leave: these make a new group. */
const REPLACE_KEYS = ["name", "description", "maximumSnapshots", "snapshotRotation"] as const;

function volumeSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()) : []);
}

function sameVolumes(a: unknown, b: unknown): boolean {
  const left = volumeSet(a);
  const right = volumeSet(b);
  return left.size === right.size && [...left].every((v) => right.has(v));
}

function replaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkGroup(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, replaceKeys(olds, news).length > 0) };
  const validation = validateInputs(VolumeGroupInputs, inputs);
  return validation.ok ? { inputs } : { inputs, failures: validation.failures };
}

function diffGroup(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = replaceKeys(olds, news);
  const membershipChanged = containsUnknown(news.volumes) || !sameVolumes(olds.volumes, news.volumes);
  // A volume belongs to one group at a time: the old group must let go of the members first.
  return { changes: replaces.length > 0 || membershipChanged, replaces, stables: replaces.length > 0 ? [] : ["volumeGroupId"], deleteBeforeReplace: true };
}

function groupOutputs(reply: VolgroupReply): PropertyBag {
  const m = reply.metadata;
  return {
    volumeGroupId: m.volume_group_uuid,
    memberIds: reply.children,
    totalBytes: m.total_capacity,
    createdAt: isoTimeOf(m.ctime),
  };
}

async function createGroup(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(VolumeGroupInputs, bag, "VolumeGroup");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    let reply = await client.getVolumeGroup(id);
    if (reply === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt volume group ${inputs.adopt}: it does not exist`);
    if (reply === undefined) {
      reply = await client.createVolumeGroup(id, {
        volumes: inputs.volumes, name: inputs.name, description: inputs.description,
        maximumSnapshot: inputs.maximumSnapshots, snapshotRotation: inputs.snapshotRotation,
      });
    } else {
      if (!sameVolumes(reply.children, inputs.volumes)) {
        throw new Error(`cannot take over volume group ${id}: its members are ${reply.children.join(", ") || "none"}, the program declares ${inputs.volumes.join(", ") || "none"}`);
      }
      recordFoundAtCreate(id);
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...groupOutputs(reply) } };
  });
}

async function readGroup(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolumeGroup(id);
    if (reply === undefined) return { id: "" };
    const inputs = pick(props, INPUT_KEYS);
    // Keep the declared order and spelling of members still in the group, so only drift shows.
    const declared = Array.isArray(inputs.volumes) ? inputs.volumes.filter((v): v is string => typeof v === "string") : [];
    const live = volumeSet(reply.children);
    inputs.volumes = [
      ...declared.filter((v) => live.has(v.toLowerCase())),
      ...reply.children.filter((v) => !declared.some((d) => d.toLowerCase() === v.toLowerCase())),
    ];
    if (inputs.name !== undefined) inputs.name = reply.metadata.display_name ?? "";
    if (inputs.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...groupOutputs(reply) }, inputs };
  });
}

/** Leaves before joins: a volume moving to a group declared later in the same update is free by then. */
async function updateGroup(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(VolumeGroupInputs, news, "VolumeGroup");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const before = volumeSet(olds.volumes);
    const after = volumeSet(inputs.volumes);
    const leaving = [...before].filter((v) => !after.has(v));
    const joining = inputs.volumes.filter((v) => !before.has(v.toLowerCase()));
    if (leaving.length > 0) await client.leaveVolumeGroup(id, leaving);
    let reply = joining.length > 0 ? await client.joinVolumeGroup(id, joining) : await client.getVolumeGroup(id);
    if (reply === undefined) throw new Error(`volume group ${id} disappeared during the update`);
    if (joining.length === 0 && leaving.length > 0) reply = (await client.getVolumeGroup(id)) ?? reply;
    return { outs: { ...withInputs(olds, news, INPUT_KEYS), ...groupOutputs(reply) } };
  });
}

async function deleteGroup(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  await withClient(timeoutOf(props), (client) => client.deleteVolumeGroup(id));
}

export const volumeGroupHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkGroup(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffGroup(id, olds, news)),
  create: createGroup,
  read: readGroup,
  update: updateGroup,
  delete: deleteGroup,
};
