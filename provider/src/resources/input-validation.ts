import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import type { CheckFailure, PropertyBag } from "./hook-types";

/**
 * What the Node dynamic-provider host puts where a value is not known yet (preview of a property
 * that depends on a resource still to be created). Such values are never validated or compared.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
  return false;
}

/** "initiators[1]", "chap.secret": the property paths Pulumi prints beside a check failure. */
export function propertyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function valueAt(bag: unknown, path: readonly PropertyKey[]): unknown {
  let current = bag;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function touchesUnknown(bag: PropertyBag, path: readonly PropertyKey[]): boolean {
  for (let depth = 0; depth <= path.length; depth++) {
    if (valueAt(bag, path.slice(0, depth)) === UNKNOWN_VALUE) return true;
  }
  return containsUnknown(valueAt(bag, path));
}

export type Validation<T> =
  | { ok: true; value: T }
  | { ok: false; failures: CheckFailure[] };

/**
 * Validates inputs with their zod schema and turns every issue into a failure naming its
 * property. Issues about values still unknown (preview) are not failures: they are checked again
 * when the value is known.
 */
export function validateInputs<S extends z.ZodType>(schema: S, news: PropertyBag): Validation<z.output<S>> {
  const parsed = schema.safeParse(news);
  if (parsed.success) return { ok: true, value: parsed.data };
  const failures = parsed.error.issues
    .filter((issue) => !touchesUnknown(news, issue.path))
    .map((issue) => ({ property: propertyPath(issue.path) || "inputs", reason: issue.message }));
  return { ok: false, failures };
}

/** Parses inputs that check() already accepted; a failure here is a bug or a tampered state. */
export function parseInputs<S extends z.ZodType>(schema: S, bag: PropertyBag, what: string): z.output<S> {
  const parsed = schema.safeParse(bag);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => `${propertyPath(i.path) || "inputs"}: ${i.message}`).join("; ");
  throw new Error(`invalid ${what} inputs: ${details}`);
}

/** True when the property differs between the old state and the new inputs (unknown counts as different). */
export function differs(olds: PropertyBag, news: PropertyBag, key: string, normalize: (v: unknown) => unknown = (v) => v): boolean {
  const next = news[key];
  if (containsUnknown(next)) return true;
  return !isDeepStrictEqual(normalize(olds[key]), normalize(next));
}

/** Keeps only the named properties (outputs carry the inputs; read() hands the inputs back). */
export function pick(bag: PropertyBag, keys: readonly string[]): PropertyBag {
  const out: PropertyBag = {};
  for (const key of keys) if (bag[key] !== undefined) out[key] = bag[key];
  return out;
}

/** Outputs with their input properties replaced by the new inputs (a removed input disappears). */
export function withInputs(outs: PropertyBag, news: PropertyBag, keys: readonly string[]): PropertyBag {
  const kept: PropertyBag = {};
  for (const [key, value] of Object.entries(outs)) if (!keys.includes(key)) kept[key] = value;
  return { ...kept, ...pick(news, keys) };
}
