import { z } from "zod";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type SnapshotReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CreateResult, PropertyBag, ReadResult } from "./hook-types";
import { childAddress, importedNaming, isImport } from "./import-inputs";
import { parseInputs, pick } from "./input-validation";
import { AdoptInput, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, replacing } from "./resource-definition";
import { isoTimeOf } from "./server-time";

export const SnapshotInputs = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  volume: reference(HexId, "volume").describe("The volume to snapshot: a Volume, a Clone, or a volume id. Changing it makes a new snapshot."),
  name: DisplayName.optional().describe("Display name. DPL cannot rename snapshots: changing it makes a new snapshot."),
  description: Description.optional().describe("Free-text description (changing it makes a new snapshot)."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export type SnapshotInputs = z.output<typeof SnapshotInputs>;

export const SnapshotOutputs = z.object({
  snapshotId: z.string().describe("The snapshot's DPL id (32 hex characters), the same as the resource id."),
  volumeId: z.string().describe("The volume the snapshot was taken of."),
  sizeBytes: z.number().describe("The volume's logical size when the snapshot was taken."),
  usedBytes: z.number().describe("Bytes held only by this snapshot (not shared with the live volume)."),
  createdAt: z.string().describe("When the snapshot was taken (ISO 8601)."),
});

const INPUT_KEYS = Object.keys(SnapshotInputs.shape);

export function snapshotOutputs(reply: SnapshotReply): z.output<typeof SnapshotOutputs> {
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

async function readSnapshot(importId: string, props: PropertyBag): Promise<ReadResult> {
  const { parent: volume, id } = childAddress(importId, props.volume, { what: "a snapshot", parent: "volume id", own: "snapshot id" });
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getSnapshot(volume, id);
    if (reply === undefined) return { id: "" };
    const inputs = isImport(props) ? importedNaming(reply, { volume }) : pick(props, INPUT_KEYS);
    if (inputs.name !== undefined) inputs.name = reply.metadata.display_name;
    if (inputs.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...snapshotOutputs(reply) }, inputs };
  });
}

async function deleteSnapshot(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  const volume = typeof props.volume === "string" ? props.volume : "";
  await withClient(timeoutOf(props), (client) => client.deleteSnapshot(volume, id));
}

/** DPL has no snapshot modify: any change to what a snapshot is makes a new one. */
const noModify = "DPL cannot modify a snapshot";

export const snapshotDefinition = defineResource({
  kind: "snapshot",
  typeName: "Snapshot",
  description: "A read-only, point-in-time snapshot of a volume (constant time on the server).",
  inputs: SnapshotInputs,
  outputs: SnapshotOutputs,
  changes: {
    volume: replacing("a snapshot of another volume is another snapshot"),
    name: replacing(noModify),
    description: replacing(noModify),
  },
  stables: ["snapshotId", "volume"],
  create: createSnapshot,
  read: readSnapshot,
  delete: deleteSnapshot,
});
