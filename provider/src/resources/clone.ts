import { z } from "zod";
import type { DplClient } from "../client";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolumeReply } from "../wire";
import type { CreateResult, PropertyBag } from "./hook-types";
import { childAddress } from "./import-inputs";
import { parseInputs, pick } from "./input-validation";
import { AdoptInput, DeleteDataOnReplaceInput, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { defineResource, replacing } from "./resource-definition";
import { requestedBytes, sizeChanges, sizeInputs } from "./size-inputs";
import {
  BlockVolumeOutputs, adoptVolume, blockVolumeReader, type ImportedSource, blockVolumeUpdater, deleteVolume, shrinkCheck, volumeOutputs, volumeSettingChanges,
} from "./volume";

/**
 * A new volume made from a volume (clone) or from one of its snapshots (copy): constant time on
 * the server (no data copied), optionally larger than its source, optionally in another pool.
 */
const CloneFields = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  sourceVolume: reference(HexId, "volume").describe("The source volume (a Volume, a Clone or an id). Changing it replaces the clone."),
  sourceSnapshot: reference(HexId, "snapshot").optional().describe(
    "Copy this snapshot of the source volume instead of the volume's current data. Changing it replaces the clone.",
  ),
  ...sizeInputs("the source's size"),
  pool: reference(HexId, "pool").optional().describe(
    "Put the clone in another pool (data is copied then); default: the source's pool. Changing it moves the clone in place (same id, data and export).",
  ),
  thin: z.boolean().optional().describe("Thin (default: like the source) or thick. Changed in place (blocks allocated or given back)."),
  name: DisplayName.optional().describe("Display name. Changes in place."),
  description: Description.optional().describe("Free-text description. Changes in place."),
  operationTimeoutSeconds: OperationTimeoutInput,
  deleteDataOnReplace: DeleteDataOnReplaceInput,
});
export const CloneInputs = CloneFields
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" });
export type CloneInputs = z.output<typeof CloneInputs>;

const INPUT_KEYS = Object.keys(CloneFields.shape);

async function makeClone(client: DplClient, id: string, inputs: CloneInputs): Promise<VolumeReply> {
  const spec = {
    sizeBytes: requestedBytes(inputs),
    poolId: inputs.pool,
    thin: inputs.thin,
    name: inputs.name,
    description: inputs.description,
  };
  if (inputs.sourceSnapshot !== undefined) return client.copyFromSnapshot(id, inputs.sourceVolume, inputs.sourceSnapshot, spec);
  return client.cloneVolume(id, inputs.sourceVolume, spec);
}

async function createClone(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(CloneInputs, bag, "Clone");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    const existing = await client.getVolume(id);
    if (existing === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt volume ${inputs.adopt}: no such volume on the DPL server`);
    let reply: VolumeReply;
    if (existing === undefined) {
      reply = await makeClone(client, id, inputs);
    } else {
      reply = await adoptVolume(client, existing, inputs, "Clone");
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...volumeOutputs(reply) } };
  });
}

/**
 * An imported clone's source: the volume it was cloned from, or (a copy of a snapshot) that
 * snapshot, whose volume the import id names first ("<source volume id>/<clone id>").
 */
const importedCloneSource: ImportedSource = async (client, reply, importId) => {
  const origin = reply.metadata.origin_uuid;
  if (origin === null) throw new Error(`volume ${reply.objectID} is not a clone (it has no source); import it as dpl:index:Volume`);
  if (await client.getVolume(origin) !== undefined) return { sourceVolume: origin };
  const { parent } = childAddress(importId, undefined, { what: "a copy of a snapshot", parent: "source volume id", own: "volume id" });
  return { sourceVolume: parent, sourceSnapshot: origin };
};

export const cloneDefinition = defineResource({
  kind: "clone",
  typeName: "Clone",
  description: "A new, independent volume made from a volume or one of its snapshots (no data copied within a pool).",
  inputs: CloneFields,
  validation: CloneInputs,
  outputs: BlockVolumeOutputs,
  changes: {
    // A clone of something else is another volume; its pool, thin, size and names change in place.
    sourceVolume: replacing("a clone of another source is another volume"),
    sourceSnapshot: replacing("a copy of another snapshot is another volume"),
    name: volumeSettingChanges.name,
    description: volumeSettingChanges.description,
    pool: volumeSettingChanges.pool,
    thin: volumeSettingChanges.thin,
    // Without a size the volume keeps its source's size.
    ...sizeChanges(true),
  },
  stables: ["volumeId", "sourceVolume", "sourceSnapshot"],
  holdsData: true,
  extraCheck: shrinkCheck,
  create: createClone,
  read: blockVolumeReader(INPUT_KEYS, importedCloneSource),
  update: blockVolumeUpdater(CloneInputs, "Clone", INPUT_KEYS),
  delete: deleteVolume,
});
