/**
 * The last line of defence for data: a replacement (the few changes a volume cannot take in
 * place: another image, another clone source) plans a delete of the old volume, and that delete
 * keeps the volume when it holds data, unless the program set `deleteDataOnReplace`.
 *
 * Why in this process: the dynamic-provider host runs diff, then create of the new volume, then
 * delete of the old, in one process per deployment; only diff sees the new inputs, and only the
 * delete of a replacement must be held back (a resource removed from the program, or `pulumi
 * destroy`, deletes as asked: use `protect` against those).
 */
import type { PropertyBag } from "./hook-types";

interface PlannedReplacement {
  kind: string;
  keys: string[];
  optedIn: boolean;
}

/** An input whose change replaces the volume, and why (from the resource's definition). */
export interface ReplacementReason {
  key: string;
  why: string;
}

const planned = new Map<string, PlannedReplacement>();

function describe(kind: string, id: string, olds: PropertyBag): string {
  const name = typeof olds.displayName === "string" && olds.displayName !== id ? ` ("${olds.displayName}")` : "";
  return `${kind} ${id}${name}`;
}

/**
 * Called by diff: remembers a planned replacement of a data-holding volume and says why on the
 * provider's stderr, which pulumi shows in the preview's diagnostics.
 */
export function noteReplacement(kind: string, id: string, reasons: ReplacementReason[], olds: PropertyBag, news: PropertyBag): void {
  const keys = reasons.map((reason) => reason.key);
  if (keys.length === 0) {
    planned.delete(id);
    return;
  }
  const optedIn = news.deleteDataOnReplace === true;
  planned.set(id, { kind, keys, optedIn });
  const why = reasons.map((reason) => `${reason.key}: ${reason.why}`).join("; ");
  const fate = optedIn
    ? "deleteDataOnReplace is true, so the old volume and its data are deleted after the new one is made"
    : "the old volume is kept on the server with its data (out of the stack) unless deleteDataOnReplace is true";
  process.stderr.write(`dpl: ${describe(kind, id, olds)} is replaced (${why}); ${fate}\n`);
}

/**
 * Called by delete: the replacement the diff planned for this volume, if the program did not opt
 * in to losing its data (consumed: each plan holds back one delete).
 */
export function heldBackReplacement(id: string): PlannedReplacement | undefined {
  const plan = planned.get(id);
  planned.delete(id);
  return plan?.optedIn === false ? plan : undefined;
}

/** What the delete says when it keeps a replaced volume. */
export function keptNotice(id: string, plan: PlannedReplacement, usedBytes: number): string {
  return `dpl: kept ${plan.kind} ${id} and its ${usedBytes} bytes of data: it was replaced (${plan.keys.join(", ")} changed) `
    + `and deleteDataOnReplace is not set. Adopt it (adopt: "${id}") or delete it on the server when you no longer need it.\n`;
}
