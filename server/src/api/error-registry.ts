/** The one place that maps error codes to HTTP statuses, and shapes every error body. */
import type { ErrorBody, ErrorCode } from "@prophetstor/dpl-provider/wire";

export const STATUS_OF: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNKNOWN_OPERATION: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  BUSY: 409,
  PAYLOAD_TOO_LARGE: 413,
  INSUFFICIENT_CAPACITY: 422,
  UNSUPPORTED: 422,
  OVERLOADED: 503,
  ENGINE_FAILURE: 500,
  INTERNAL: 500,
};

/** Seconds an OVERLOADED reply asks the client to wait (Retry-After). */
export const OVERLOADED_RETRY_AFTER_SECONDS = 2;

export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return field === undefined ? { error: { code, message } } : { error: { code, message, field } };
}
