import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolgroupReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { importedNaming, isImport } from "./import-inputs";
import { containsUnknown, parseInputs, pick, withInputs } from "./input-validation";
import { AdoptInput, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace, replacing } from "./resource-definition";
import { isoTimeOf } from "./server-time";

/**
 * A volume group (DPL's consistency group): the volumes a GroupSnapshot snapshots together.
 * Membership changes in place (join/leave); deleting the group keeps its volumes.
 */
export const VolumeGroupInputs = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  volumes: z.array(reference(HexId, "volume")).max(256, "must list at most 256 volumes")
    .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, "must not list a volume twice")
    .describe("The member volumes (Volumes, Clones or volume ids); a volume belongs to one group at a time. Adding or removing one changes the group in place."),
  name: DisplayName.optional().describe("Display name. DPL cannot rename groups: changing it makes a new group."),
  description: Description.optional().describe("Free-text description (changing it makes a new group)."),
  maximumSnapshots: z.number().int().positive().max(1024).optional()
    .describe("Most group snapshots the group keeps (server default 1024). Changing it makes a new group."),
  snapshotRotation: z.boolean().optional()
    .describe("At the maximum, a new group snapshot removes the oldest instead of failing. Changing it makes a new group."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export type VolumeGroupInputs = z.output<typeof VolumeGroupInputs>;

const VolumeGroupOutputs = z.object({
  volumeGroupId: z.string().describe("The group's DPL id (32 hex characters), the same as the resource id."),
  memberIds: z.array(z.string()).describe("Member volume ids as the server has them."),
  totalBytes: z.number().describe("Sum of the members' sizes."),
  createdAt: z.string().describe("When the group was made (ISO 8601)."),
});

const INPUT_KEYS = Object.keys(VolumeGroupInputs.shape);

function volumeSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()) : []);
}

function sameVolumes(a: unknown, b: unknown): boolean {
  const left = volumeSet(a);
  const right = volumeSet(b);
  return left.size === right.size && [...left].every((v) => right.has(v));
}

function groupOutputs(reply: VolgroupReply): z.output<typeof VolumeGroupOutputs> {
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
    const inputs = isImport(props) ? importedNaming(reply, {}) : pick(props, INPUT_KEYS);
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

/** DPL has no group modify besides join and leave. */
const noModify = "DPL cannot modify a group besides its members";

export const volumeGroupDefinition = defineResource({
  kind: "volumeGroup",
  typeName: "VolumeGroup",
  description: "A volume group (DPL's consistency group): volumes that a GroupSnapshot snapshots together. Destroying the group keeps its volumes.",
  inputs: VolumeGroupInputs,
  outputs: VolumeGroupOutputs,
  changes: {
    name: replacing(noModify),
    description: replacing(noModify),
    maximumSnapshots: replacing(noModify),
    snapshotRotation: replacing(noModify),
    volumes: inPlace("members leave and join the group", {
      changed: (olds, news) => containsUnknown(news.volumes) || !sameVolumes(olds.volumes, news.volumes),
    }),
  },
  stables: ["volumeGroupId"],
  // A volume belongs to one group at a time: the old group must let go of the members first.
  deleteBeforeReplace: true,
  create: createGroup,
  read: readGroup,
  update: updateGroup,
  delete: deleteGroup,
});
