import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolgroupSnapshotReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { isoTimeOf } from "./server-time";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

/**
 * A snapshot of every member of a volume group at one instant (the server holds the members'
 * iSCSI I/O while it takes them). Its output maps each member volume to its member snapshot.
 */
export const GroupSnapshotInputs = z.object({
  objectId: HexId,
  adopt: HexId.optional(),
  volumeGroup: HexId,
  name: DisplayName.optional(),
  description: Description.optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});
export type GroupSnapshotInputs = z.output<typeof GroupSnapshotInputs>;

const INPUT_KEYS = ["objectId", "adopt", "volumeGroup", "name", "description", "operationTimeoutSeconds"] as const;
/** A group snapshot cannot change: anything about it changing makes a new one. */
const REPLACE_KEYS = ["volumeGroup", "name", "description"] as const;

function replaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkGroupSnapshot(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, replaceKeys(olds, news).length > 0) };
  const validation = validateInputs(GroupSnapshotInputs, inputs);
  return validation.ok ? { inputs } : { inputs, failures: validation.failures };
}

function diffGroupSnapshot(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = replaceKeys(olds, news);
  return { changes: replaces.length > 0, replaces, stables: ["groupSnapshotId", "volumeGroupId", "memberSnapshots"], deleteBeforeReplace: false };
}

function groupSnapshotOutputs(reply: VolgroupSnapshotReply): PropertyBag {
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

async function readGroupSnapshot(id: string, props: PropertyBag): Promise<ReadResult> {
  const group = typeof props.volumeGroup === "string" ? props.volumeGroup : "";
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getGroupSnapshot(group, id);
    if (reply === undefined) return { id: "" };
    const inputs = pick(props, INPUT_KEYS);
    if (inputs.name !== undefined) inputs.name = reply.metadata.display_name ?? "";
    if (inputs.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...groupSnapshotOutputs(reply) }, inputs };
  });
}

/** Only inputs that never reach the server (adopt, the timeout) change in place. */
function updateGroupSnapshot(_id: string, olds: PropertyBag, news: PropertyBag): UpdateResult {
  return { outs: withInputs(olds, news, INPUT_KEYS) };
}

/** Deletes the member snapshots too (the server removes them with the group snapshot). */
async function deleteGroupSnapshot(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  const group = typeof props.volumeGroup === "string" ? props.volumeGroup : "";
  await withClient(timeoutOf(props), (client) => client.deleteGroupSnapshot(group, id));
}

export const groupSnapshotHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkGroupSnapshot(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffGroupSnapshot(id, olds, news)),
  create: createGroupSnapshot,
  read: readGroupSnapshot,
  update: (id, olds, news) => Promise.resolve(updateGroupSnapshot(id, olds, news)),
  delete: deleteGroupSnapshot,
};
