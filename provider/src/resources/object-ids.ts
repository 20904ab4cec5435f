import { createHash } from "node:crypto";
import type { PropertyBag } from "./hook-types";
import { UNKNOWN_VALUE } from "./input-validation";

function hexDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * The seed the SDK derives from where a resource is declared (project, stack, type, name) and
 * passes as the `objectId` input; check() turns it into the object's DPL id.
 */
export function declaredObjectId(project: string, stack: string, type: string, name: string): string {
  return hexDigest(`dpl-object\u0000${project}\u0000${stack}\u0000${type}\u0000${name}`);
}

/**
 * The DPL id of an object: the declaration seed plus the values of every input whose change
 * replaces the object. Deterministic, so a create interrupted after the server made the object
 * finds it again on the retry (and takes it over) instead of making a twin; and a replacement
 * gets a different id from the object it replaces, so create-before-delete never collides.
 *
 * Why not "derive from the old id": for a replacement the engine re-runs check without the old
 * inputs (pulumi step generator), so the id must follow from the new inputs alone.
 */
export function derivedObjectId(seed: string, replaceInputs: Record<string, unknown>): string {
  const material = Object.keys(replaceInputs).sort().map((key) => [key, replaceInputs[key] ?? null]);
  return hexDigest(`dpl-object-v2\u0000${seed}\u0000${JSON.stringify(material)}`);
}

function knownString(value: unknown): string | undefined {
  return typeof value === "string" && value !== UNKNOWN_VALUE && value !== "" ? value : undefined;
}

/**
 * Chooses the objectId check() returns:
 * - a resource already in the state keeps its id unless this change replaces it;
 * - a new resource that adopts an object takes that object's id;
 * - otherwise (new, or being replaced) the id derived from the seed and the `triggers` inputs.
 */
export function settleObjectId(olds: PropertyBag, news: PropertyBag, triggers: readonly string[], replacing: boolean): string | undefined {
  const previous = knownString(olds.objectId);
  if (previous !== undefined && !replacing) return previous;
  const adopted = knownString(news.adopt);
  if (previous === undefined && adopted !== undefined) return adopted;
  const seed = knownString(news.objectId);
  if (seed === undefined) return undefined;
  return derivedObjectId(seed, Object.fromEntries(triggers.map((key) => [key, news[key]])));
}
