/**
 * What the DPL server says it can do (`GET /v1/dpl_system/` → metadata.capabilities), read at a
 * hook's first use of a server and kept for the life of the provider process, so a request the
 * server cannot serve fails at once with a message naming the capability instead of half-way.
 */
import type { DplClient } from "../client";
import type { Capabilities } from "../wire";

const byEndpoint = new Map<string, Promise<Capabilities>>();

export function serverCapabilities(client: DplClient): Promise<Capabilities> {
  let known = byEndpoint.get(client.endpoint);
  if (known === undefined) {
    known = client.system().then((reply) => reply.metadata.capabilities);
    // A failed read is not remembered: the next hook asks again.
    known.catch(() => byEndpoint.delete(client.endpoint));
    byEndpoint.set(client.endpoint, known);
  }
  return known;
}

export class UnsupportedByServerError extends Error {
  override name = "UnsupportedByServerError";
}

/** Throws naming the capability when `value` is not among what the server supports. */
export function requireSupported(what: string, value: string, supported: readonly string[], endpoint: string): void {
  if (supported.includes(value)) return;
  throw new UnsupportedByServerError(`the DPL server at ${endpoint} does not support ${what} "${value}" (it supports: ${supported.join(", ") || "none"})`);
}

/** Compression values as capabilities list them: "zstd:3" is the algorithm "zstd". */
export function compressionAlgorithm(compression: string): string {
  return compression.split(":")[0] ?? compression;
}
