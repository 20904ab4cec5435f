import { z } from "zod";
import type { DplClient } from "../client";
import { withClient } from "../config/open-client";
import { Description, DisplayName, HexId, type VolumeReply } from "../wire";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ResourceHooks } from "./hook-types";
import { differs, parseInputs, pick, validateInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { noteReplacement } from "./replacement-guard";
import { OperationTimeoutSeconds } from "./operation-timeout";
import { SizeInputs, requestedBytes, shrinkFailure } from "./size-inputs";
import { adoptVolume, blockVolumeReader, blockVolumeUpdater, deleteVolume, derivedVolumeDiff, volumeOutputs } from "./volume";

/**
 * A new volume made from a volume (clone) or from one of its snapshots (copy): constant time on
 * the server (no data copied), optionally larger than its source, optionally in another pool.
 */
export const CloneInputs = z
  .object({
    objectId: HexId,
    adopt: HexId.optional(),
    sourceVolume: HexId,
    sourceSnapshot: HexId.optional(),
    ...SizeInputs,
    pool: HexId.optional(),
    thin: z.boolean().optional(),
    name: DisplayName.optional(),
    description: Description.optional(),
    operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
    deleteDataOnReplace: z.boolean().optional(),
  })
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" });
export type CloneInputs = z.output<typeof CloneInputs>;

const INPUT_KEYS = ["objectId", "adopt", "sourceVolume", "sourceSnapshot", "sizeBytes", "sizeGib", "pool", "thin", "name", "description", "operationTimeoutSeconds", "deleteDataOnReplace"] as const;
/** A clone of something else is another volume; its pool, thin, size and names change in place. */
const REPLACE_KEYS = ["sourceVolume", "sourceSnapshot"] as const;

export function cloneReplaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkClone(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, cloneReplaceKeys(olds, news).length > 0) };
  const validation = validateInputs(CloneInputs, inputs);
  const failures = validation.ok ? [] : validation.failures;
  const shrink = shrinkFailure(olds, news);
  if (shrink !== undefined) failures.push(shrink);
  return failures.length > 0 ? { inputs, failures } : { inputs };
}

function diffClone(id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = cloneReplaceKeys(olds, news);
  noteReplacement("Clone", id, replaces, olds, news);
  // Without a size the volume keeps its source's size.
  return derivedVolumeDiff(olds, news, replaces, ["volumeId", "sourceVolume", "sourceSnapshot"]);
}

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

export const cloneHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkClone(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffClone(id, olds, news)),
  create: createClone,
  read: blockVolumeReader(INPUT_KEYS),
  update: blockVolumeUpdater(CloneInputs, "Clone", INPUT_KEYS),
  delete: deleteVolume,
};
