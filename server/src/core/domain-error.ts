import type { ErrorCode } from "@prophetstor/dpl-provider/wire";

/** A refusal or failure core reports to its callers; the API maps `code` to an HTTP status. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Dotted path of the request field to blame, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export function notFound(kind: string, id: string): DomainError {
  return new DomainError("NOT_FOUND", `${kind} ${id} does not exist`);
}

/**
 * Any error as a DomainError: engine failures keep their message under ENGINE_FAILURE, except a
 * full filesystem, which is the pool running out of space (free-space estimates are estimates).
 */
export function asDomainError(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/ENOSPC|No space left on device/.test(message)) return new DomainError("INSUFFICIENT_CAPACITY", `the pool ran out of space: ${message}`);
  return new DomainError("ENGINE_FAILURE", message);
}
