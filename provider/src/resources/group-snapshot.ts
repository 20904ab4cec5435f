import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolgroupSnapshotReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CreateResult, PropertyBag, ReadResult } from "./hook-types";
import { childAddress, importedNaming, isImport } from "./import-inputs";
import { parseInputs, pick } from "./input-validation";
import { AdoptInput, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, replacing } from "./resource-definition";
import { isoTimeOf } from "./server-time";

/**
 * A snapshot of every member of a volume group at one instant (the server holds the members'
 * iSCSI I/O while it takes them). Its output maps each member volume to its member snapshot.
 */
export const GroupSnapshotInputs = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  volumeGroup: reference(HexId, "volumeGroup").describe("The group whose members to snapshot (a VolumeGroup or its id). Changing it makes a new snapshot."),
  name: DisplayName.optional().describe("Display name (changing it makes a new group snapshot)."),
  description: Description.optional().describe("Free-text description (changing it makes a new group snapshot)."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export type GroupSnapshotInputs = z.output<typeof GroupSnapshotInputs>;

const GroupSnapshotOutputs = z.object({
  groupSnapshotId: z.string().describe("The group snapshot's DPL id (32 hex characters), the same as the resource id."),
  volumeGroupId: z.string().describe("The group it was taken of."),
  memberSnapshots: z.record(z.string(), z.string()).describe("Member volume id → the id of that volume's snapshot (usable wherever a snapshot id is)."),
  createdAt: z.string().describe("When it was taken (ISO 8601)."),
});

const INPUT_KEYS = Object.keys(GroupSnapshotInputs.shape);

function groupSnapshotOutputs(reply: VolgroupSnapshotReply): z.output<typeof GroupSnapshotOutputs> {
  const m = reply.metadata;
  return {
    groupSnapshotId: m.snapshot_uuid,
    volumeGroupId: m.origin_uuid,
    memberSnapshots: m.member,
    createdAt: isoTimeOf(m.ctime),
  };
}

async function createGroupSnapshot(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(GroupSnapshotInputs, bag, "GroupSnapshot");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    let reply = await client.getGroupSnapshot(inputs.volumeGroup, id);
    if (reply === undefined && inputs.adopt !== undefined) {
      throw new Error(`cannot adopt group snapshot ${inputs.adopt}: volume group ${inputs.volumeGroup} has no such snapshot`);
    }
    if (reply === undefined) {
      reply = await client.createGroupSnapshot(inputs.volumeGroup, id, { name: inputs.name, description: inputs.description });
    } else {
      recordFoundAtCreate(id);
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...groupSnapshotOutputs(reply) } };
  });
}

async function readGroupSnapshot(importId: string, props: PropertyBag): Promise<ReadResult> {
  const { parent: group, id } = childAddress(importId, props.volumeGroup, { what: "a group snapshot", parent: "volume group id", own: "group snapshot id" });
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getGroupSnapshot(group, id);
    if (reply === undefined) return { id: "" };
    const inputs = isImport(props) ? importedNaming(reply, { volumeGroup: group }) : pick(props, INPUT_KEYS);
    if (inputs.name !== undefined) inputs.name = reply.metadata.display_name ?? "";
    if (inputs.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...groupSnapshotOutputs(reply) }, inputs };
  });
}

/** Deletes the member snapshots too (the server removes them with the group snapshot). */
async function deleteGroupSnapshot(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  const group = typeof props.volumeGroup === "string" ? props.volumeGroup : "";
  await withClient(timeoutOf(props), (client) => client.deleteGroupSnapshot(group, id));
}

/** A group snapshot cannot change: anything about it changing makes a new one. */
const cannotChange = "DPL cannot modify a group snapshot";

export const groupSnapshotDefinition = defineResource({
  kind: "groupSnapshot",
  typeName: "GroupSnapshot",
  description: "A snapshot of every member of a volume group at one instant: the server holds the members' iSCSI I/O while it snapshots "
    + "them, so no write lands between two member snapshots. The members are the group's members when the snapshot is taken; later "
    + "membership changes do not change it. Destroying it deletes every member snapshot.",
  inputs: GroupSnapshotInputs,
  outputs: GroupSnapshotOutputs,
  changes: { volumeGroup: replacing(cannotChange), name: replacing(cannotChange), description: replacing(cannotChange) },
  stables: ["groupSnapshotId", "volumeGroupId", "memberSnapshots"],
  create: createGroupSnapshot,
  read: readGroupSnapshot,
  delete: deleteGroupSnapshot,
});
