import { z } from "zod";
import { withClient } from "../config/open-client";
import { HexId } from "../wire";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { OperationTimeoutSeconds } from "./operation-timeout";

/**
 * An action, modelled like pulumi-command's lifecycle: creating the resource rolls the volume
 * back to the snapshot; changing the volume, the snapshot or any trigger makes a new one (another
 * rollback); deleting it does nothing on the server, so a rollback kept in the state never fires
 * again by accident.
 */
export const RollbackInputs = z.object({
  objectId: HexId,
  volume: HexId,
  snapshot: HexId,
  triggers: z.array(z.unknown()).optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});

const INPUT_KEYS = ["objectId", "volume", "snapshot", "triggers", "operationTimeoutSeconds"] as const;
const REPLACE_KEYS = ["volume", "snapshot", "triggers"] as const;

export function rollbackReplaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkRollback(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, rollbackReplaceKeys(olds, news).length > 0) };
  const validation = validateInputs(RollbackInputs, inputs);
  return validation.ok ? { inputs } : { inputs, failures: validation.failures };
}

function diffRollback(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = rollbackReplaceKeys(olds, news);
  // Nothing to tear down, and the old record's delete is a no-op: order does not matter.
  return { changes: replaces.length > 0, replaces, stables: [], deleteBeforeReplace: true };
}

async function createRollback(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(RollbackInputs, bag, "Rollback");
  await withClient(inputs.operationTimeoutSeconds, (client) => client.rollbackVolume(inputs.volume, inputs.snapshot));
  return { id: inputs.objectId, outs: { ...pick(bag, INPUT_KEYS), rolledBackAt: new Date().toISOString() } };
}

/** The rollback happened; there is nothing on the server to read back. */
function readRollback(id: string, props: PropertyBag): ReadResult {
  return { id, props, inputs: pick(props, INPUT_KEYS) };
}

function updateRollback(_id: string, olds: PropertyBag, news: PropertyBag): UpdateResult {
  return { outs: withInputs(olds, news, INPUT_KEYS) };
}

function deleteRollback(): Promise<void> {
  // Deliberately nothing: undoing a rollback is not possible, and re-running one is a new resource.
  return Promise.resolve();
}

export const rollbackHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkRollback(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffRollback(id, olds, news)),
  create: createRollback,
  read: (id, props) => Promise.resolve(readRollback(id, props)),
  update: (id, olds, news) => Promise.resolve(updateRollback(id, olds, news)),
  delete: deleteRollback,
};
