/**
 * Objects that a create found already on the server under the resource's deterministic id and
 * took over, in this provider process.
 *
 * Why: `pulumi up --replace` (and a tainted resource) calls check without the old inputs and
 * then create before delete, so the replacement derives the same id as the object it replaces,
 * finds it, and takes it over. The delete of the "old" resource that follows in the same
 * deployment (same process) must then leave the object alone, or the replacement would point at
 * nothing. A really fresh object needs the `deleteBeforeReplace` resource option with --replace.
 */
const takenOver = new Set<string>();

export function recordFoundAtCreate(objectId: string): void {
  takenOver.add(objectId);
}

/** True (once) when a create in this process took this object over: its delete is skipped. */
export function claimedByReplacement(objectId: string): boolean {
  return takenOver.delete(objectId);
}
