import { z } from "zod";
import { withClient } from "../config/open-client";
import { HexId } from "../wire";
import type { CreateResult, PropertyBag, ReadResult } from "./hook-types";
import { parseInputs, pick } from "./input-validation";
import { ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { defineResource, replacing } from "./resource-definition";

/**
 * An action, modelled like pulumi-command's lifecycle: creating the resource rolls the volume
 * back to the snapshot; changing the volume, the snapshot or any trigger makes a new one (another
 * rollback); deleting it does nothing on the server, so a rollback kept in the state never fires
 * again by accident.
 */
export const RollbackInputs = z.object({
  objectId: ObjectIdInput,
  volume: reference(HexId, "volume").describe("The volume to roll back (a Volume, a Clone or a volume id)."),
  snapshot: reference(HexId, "snapshot").describe("The snapshot of that volume to roll back to."),
  triggers: z.array(z.unknown()).optional().describe(
    "Any values; when one changes, the volume is rolled back again (like pulumi-command's `triggers`). E.g. `[1]`, bumped to `[2]` to roll back once more.",
  ),
  operationTimeoutSeconds: OperationTimeoutInput,
});

const RollbackOutputs = z.object({
  rolledBackAt: z.string().describe("When the rollback ran (ISO 8601)."),
});

const INPUT_KEYS = Object.keys(RollbackInputs.shape);

async function createRollback(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(RollbackInputs, bag, "Rollback");
  await withClient(inputs.operationTimeoutSeconds, (client) => client.rollbackVolume(inputs.volume, inputs.snapshot));
  return { id: inputs.objectId, outs: { ...pick(bag, INPUT_KEYS), rolledBackAt: new Date().toISOString() } };
}

/** The rollback happened; there is nothing on the server to read back. */
function readRollback(id: string, props: PropertyBag): ReadResult {
  return { id, props, inputs: pick(props, INPUT_KEYS) };
}

function deleteRollback(): Promise<void> {
  // Deliberately nothing: undoing a rollback is not possible, and re-running one is a new resource.
  return Promise.resolve();
}

const rollsBackAgain = "another rollback is another action";

export const rollbackDefinition = defineResource({
  kind: "rollback",
  typeName: "Rollback",
  description: "An action: creating it rolls the volume's data back to the snapshot, in place (an exported LUN sees the old data at once). "
    + "Changing the volume, the snapshot or a trigger rolls back again; deleting it does nothing on the server, so a rollback kept in the "
    + "state never fires by accident. Hosts should not have the volume mounted while it is rolled back.",
  inputs: RollbackInputs,
  outputs: RollbackOutputs,
  changes: { volume: replacing(rollsBackAgain), snapshot: replacing(rollsBackAgain), triggers: replacing(rollsBackAgain) },
  stables: [],
  // Nothing to tear down, and the old record's delete is a no-op: order does not matter.
  deleteBeforeReplace: true,
  create: createRollback,
  read: readRollback,
  delete: deleteRollback,
});
