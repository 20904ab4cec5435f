import type { ErrorCode } from "@prophetstor/dpl-provider/wire";
import { EngineError, type EngineErrorCode } from "./ports";

/** A refusal or failure core reports to its callers; the API maps `code` to an HTTP status. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /**
     * Dotted path of the input to blame, when there is one: a property of core's command
     * (commands.ts), which the api maps to the wire field it came from.
     */
    readonly field?: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export function notFound(kind: string, id: string): DomainError {
  return new DomainError("NOT_FOUND", `${kind} ${id} does not exist`);
}

const FROM_ENGINE: Record<EngineErrorCode, ErrorCode> = {
  NO_SPACE: "INSUFFICIENT_CAPACITY",
  NOT_FOUND: "NOT_FOUND",
  INVALID_REQUEST: "INVALID_ARGUMENT",
  FAILED: "ENGINE_FAILURE",
};

/**
 * Any error as a DomainError: an engine's error by its code (a full filesystem is the pool
 * running out of space: free-space estimates are estimates), a file system call's ENOSPC too,
 * anything else an ENGINE_FAILURE keeping its message.
 */
export function asDomainError(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = e instanceof EngineError ? FROM_ENGINE[e.code] : (e as NodeJS.ErrnoException | undefined)?.code === "ENOSPC" ? "INSUFFICIENT_CAPACITY" : "ENGINE_FAILURE";
  return new DomainError(code, code === "INSUFFICIENT_CAPACITY" ? `the pool ran out of space: ${message}` : message);
}
