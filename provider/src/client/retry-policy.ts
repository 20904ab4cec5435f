/**
 * Which failures are worth another attempt, and how long to wait before it.
 *
 * Why a small loop of our own rather than undici's RetryAgent: its backoff has no jitter, it
 * does not know the caller's overall deadline (it would sleep past it), it does not retry
 * header/body timeouts, and it cannot tell the caller whether an earlier attempt may already
 * have reached the server — which the client needs to accept ALREADY_EXISTS from a retried create.
 */

/** Errors where the request may or may not have reached the server, so only idempotent ones retry. */
const RETRYABLE_AFTER_SEND = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "DPL_ATTEMPT_TIMEOUT",
]);

/** Errors raised before the request left this machine: always safe to repeat. */
const RETRYABLE_BEFORE_SEND = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export type NetworkFailureKind =
  | { retryable: true; possiblyDelivered: boolean; code: string }
  | { retryable: false; code: string | undefined; tls: boolean; invalidHttp: boolean };

export function errorCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyNetworkError(err: unknown): NetworkFailureKind {
  // undici's HTTPParserError carries no code on its own, only its name.
  const code = errorCodeOf(err) ?? (err instanceof Error && err.name === "HTTPParserError" ? "HPE_INVALID" : undefined);
  if (code !== undefined && RETRYABLE_BEFORE_SEND.has(code)) return { retryable: true, possiblyDelivered: false, code };
  if (code !== undefined && RETRYABLE_AFTER_SEND.has(code)) return { retryable: true, possiblyDelivered: true, code };
  const tls =
    code !== undefined &&
    (code.startsWith("ERR_TLS") ||
      code.startsWith("ERR_SSL") ||
      /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO/.test(code));
  const invalidHttp = code !== undefined && (code.startsWith("HPE_") || code === "UND_ERR_INFO" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH");
  return { retryable: false, code, tls, invalidHttp };
}

export interface BackoffSettings {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * "Equal jitter": half the exponential step is fixed, half random, so retries of many clients
 * spread out while every wait still grows.
 */
export function backoffDelayMs(retryNumber: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const step = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
