import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type SnapshotReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { isoTimeOf } from "./server-time";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

export const SnapshotInputs = z.object({
  objectId: HexId,
  adopt: HexId.optional(),
  volume: HexId,
  name: DisplayName.optional(),
  description: Description.optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});
export type SnapshotInputs = z.output<typeof SnapshotInputs>;

const INPUT_KEYS = ["objectId", "adopt", "volume", "name", "description", "operationTimeoutSeconds"] as const;
/** DPL has no snapshot modify: any change to what a snapshot is makes a new one. */
const REPLACE_KEYS = ["volume", "name", "description"] as const;

export function snapshotReplaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkSnapshot(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, snapshotReplaceKeys(olds, news).length > 0) };
  const validation = validateInputs(SnapshotInputs, inputs);
  return validation.ok ? { inputs } : { inputs, failures: validation.failures };
}

function diffSnapshot(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = snapshotReplaceKeys(olds, news);
  return { changes: replaces.length > 0, replaces, stables: ["snapshotId", "volume"], deleteBeforeReplace: false };
}

export function snapshotOutputs(reply: SnapshotReply): PropertyBag {
  const m = reply.metadata;
  return {
    snapshotId: m.snapshot_uuid,
    volumeId: m.origin_uuid,
    sizeBytes: m.total_capacity,
    usedBytes: m.snapshot_used_capacity,
    createdAt: isoTimeOf(m.ctime),
  };
}

async function createSnapshot(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(SnapshotInputs, bag, "Snapshot");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    let reply = await client.getSnapshot(inputs.volume, id);
    if (reply === undefined && inputs.adopt !== undefined) {
      throw new Error(`cannot adopt snapshot ${inputs.adopt}: volume ${inputs.volume} has no such snapshot`);
    }
    if (reply === undefined) {
      reply = await client.createSnapshot(inputs.volume, id, { name: inputs.name, description: inputs.description });
    } else {
      recordFoundAtCreate(id);
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...snapshotOutputs(reply) } };
  });
}

async function readSnapshot(id: string, props: PropertyBag): Promise<ReadResult> {
  const volume = typeof props.volume === "string" ? props.volume : "";
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getSnapshot(volume, id);
    if (reply === undefined) return { id: "" };
    const inputs = pick(props, INPUT_KEYS);
    if (inputs.name !== undefined) inputs.name = reply.metadata.display_name;
    if (inputs.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...snapshotOutputs(reply) }, inputs };
  });
}

/** Only inputs that never reach the server (adopt, the timeout) change in place. */
function updateSnapshot(_id: string, olds: PropertyBag, news: PropertyBag): UpdateResult {
  return { outs: withInputs(olds, news, INPUT_KEYS) };
}

async function deleteSnapshot(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  const volume = typeof props.volume === "string" ? props.volume : "";
  await withClient(timeoutOf(props), (client) => client.deleteSnapshot(volume, id));
}

export const snapshotHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkSnapshot(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffSnapshot(id, olds, news)),
  create: createSnapshot,
  read: readSnapshot,
  update: (id, olds, news) => Promise.resolve(updateSnapshot(id, olds, news)),
  delete: deleteSnapshot,
};
