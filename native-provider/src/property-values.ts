/**
 * Property values between the engine's gRPC structs and the hooks' plain JSON bags.
 *
 * The plugin tells the engine it accepts secrets (so secret inputs arrive marked, and the
 * state keeps them encrypted) but not resource references (the engine then sends a referenced
 * resource's id, which is what every DPL input takes). The hooks work on plain values, as the
 * dynamic-provider host gives them: secrets are unwrapped on the way in and the resource's
 * secret outputs are wrapped again on the way out. Unknown values (preview) arrive as the same
 * sentinel string the dynamic host uses, so the hooks already know them.
 */
import type { PropertyBag } from "@prophetstor/dpl-provider";

/** The key Pulumi's wire format marks special values with, and the signature of a secret. */
const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** A value with every secret marker removed (the hooks validate and send plain values). */
export function revealed(value: unknown): unknown {
  if (isSecretValue(value)) return revealed(value.value);
  if (Array.isArray(value)) return value.map(revealed);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, revealed(item)]));
  }
  return value;
}

function holdsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsSecret);
  return false;
}

/**
 * The top-level properties that are (or hold) secrets: what the hooks return under those names
 * is marked secret again, or the engine would store the plain value the hooks saw.
 */
export function secretKeysOf(struct: Record<string, unknown> | undefined): string[] {
  return Object.entries(struct ?? {}).filter(([, value]) => holdsSecret(value)).map(([key]) => key);
}

/** A struct's JavaScript form as a plain property bag. */
export function plainBag(struct: Record<string, unknown> | undefined): PropertyBag {
  return (revealed(struct ?? {}) as PropertyBag);
}

/** Marks a value secret in the wire format. */
function secret(value: unknown): Record<string, unknown> {
  return { [SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

/** The bag with the named top-level properties marked secret (absent ones stay absent). */
export function withSecrets(bag: PropertyBag, secretKeys: readonly string[]): PropertyBag {
  const out: PropertyBag = { ...bag };
  for (const key of secretKeys) {
    if (out[key] !== undefined) out[key] = secret(out[key]);
  }
  return out;
}
