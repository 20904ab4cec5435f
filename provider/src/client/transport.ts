import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import type { IncomingHttpHeaders } from "undici/types/header";
import type { z } from "zod";
import { CDMI_CONTAINER, CDMI_SPEC_HEADER, CDMI_SPEC_VERSION, ErrorBody, PREFER_HEADER, preferWait } from "../wire";
import {
  AuthenticationError,
  DplConnectionError,
  DplRequestError,
  DplServerError,
  NotFoundError,
  ProtocolError,
  TimeoutError,
  type DplError,
} from "./errors";
import { loadCa, type ResolvedDplClientOptions } from "./options";
import { backoffDelayMs, classifyNetworkError, retryAfterMs } from "./retry-policy";

/** One client call: what it is doing, to which object, and by when it must be done. */
export interface OperationContext {
  operation: string;
  objectId?: string | undefined;
  /** Epoch ms after which the call gives up. */
  deadline: number;
  timeoutMs: number;
}

export interface DplRequest {
  method: "GET" | "PUT" | "DELETE";
  path: string;
  body?: unknown;
  /** Sends `Prefer: wait=N` and allows the reply N seconds more. */
  preferWaitSeconds?: number | undefined;
  /** What a timeout message says the call was waiting for (default: method and path). */
  waitingFor?: string | undefined;
  /** Set on event polls, so a timeout names the event. */
  eventId?: string | undefined;
}

export interface DplResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  attempts: number;
  /** An earlier attempt failed after it may have reached the server (its effect may exist). */
  earlierAttemptMayHaveApplied: boolean;
}

/**
 * The HTTP side of the client: one keep-alive undici Pool, Basic auth, CDMI headers, per-request
 * timeouts and bounded retries inside the call's deadline.
 *
 * Retrying is safe because every request this client sends is idempotent by object id: GETs
 * read; DELETEs of a gone object answer 404, which callers take as done; PUTs name the object
 * (or snapshot) id chosen by the client, so a repeated create finds its first attempt's object
 * (ALREADY_EXISTS, accepted when an earlier attempt may have applied), a repeated extend or
 * rollback sets the same end state, and a repeated assign/unassign leaves the same ACL.
 */
export class DplTransport {
  readonly endpoint: string;
  readonly username: string;
  private readonly pool: Pool;
  private readonly authorization: string;
  private readonly options: ResolvedDplClientOptions;

  constructor(options: ResolvedDplClientOptions) {
    this.options = options;
    this.endpoint = new URL(options.endpoint).origin;
    this.username = options.username;
    // Basic auth over the UTF-8 bytes of "user:password" (RFC 7617; the historical client's D1).
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`, "utf8").toString("base64")}`;
    const tls = this.endpoint.startsWith("https:");
    this.pool = new Pool(this.endpoint, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connect: {
        timeout: options.connectTimeoutMs,
        ...(tls ? { rejectUnauthorized: !options.insecure, ...(options.ca === undefined ? {} : { ca: loadCa(options.ca) }) } : {}),
      },
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async send(ctx: OperationContext, request: DplRequest): Promise<DplResponse> {
    const { maxAttempts } = this.options;
    let earlierAttemptMayHaveApplied = false;
    let lastFailure: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = ctx.deadline - Date.now();
      if (remaining <= 0) throw this.timeout(ctx, request, attempt - 1, lastFailure);
      const preferWaitSeconds = Math.min(request.preferWaitSeconds ?? 0, Math.floor(remaining / 1000));
      const wanted = this.options.requestTimeoutMs + preferWaitSeconds * 1000;
      const allowance = Math.min(wanted, remaining);
      let delay: number | undefined;
      // undici's own header/body timers tick at ~1 s; a native timer keeps short deadlines exact.
      const attemptTimer = new AbortController();
      const timer = setTimeout(() => { attemptTimer.abort(new AttemptTimeoutError(allowance)); }, allowance);
      try {
        const pending = this.pool.request({
          method: request.method,
          path: request.path,
          headers: this.headersFor(request, preferWaitSeconds),
          body: request.body === undefined ? null : JSON.stringify(request.body),
          headersTimeout: allowance,
          bodyTimeout: allowance,
          signal: attemptTimer.signal,
        });
        // undici acts on an abort only once the connection is up: a server that accepts TCP but
        // never completes TLS (frozen, overloaded) would hold the call until connectTimeoutMs,
        // past its deadline. The race ends the attempt on time; the late rejection is dropped.
        pending.catch(() => undefined);
        const reply = await Promise.race([pending, abortedBy(attemptTimer.signal)]);
        const text = await reply.body.text();
        clearTimeout(timer);
        if (reply.statusCode !== 503) {
          return { status: reply.statusCode, headers: reply.headers, text, attempts: attempt, earlierAttemptMayHaveApplied };
        }
        // 503 means the server did not take the request on (busy or starting): safe to repeat.
        if (attempt >= maxAttempts) throw this.errorForStatus(ctx, { status: 503, text, attempts: attempt });
        lastFailure = "HTTP 503";
        delay = retryAfterMs(reply.headers["retry-after"]) ?? this.backoff(attempt);
        if (Date.now() + delay >= ctx.deadline) throw this.errorForStatus(ctx, { status: 503, text, attempts: attempt });
      } catch (err) {
        clearTimeout(timer);
        if (delay !== undefined || isDplError(err)) throw err;
        const kind = classifyNetworkError(err);
        const message = (err as Error).message;
        if (!kind.retryable) throw this.unreachable(ctx, err, kind, attempt);
        earlierAttemptMayHaveApplied ||= kind.possiblyDelivered;
        // An attempt cut short by the operation's deadline is the deadline itself, not a failure to
        // report: the error names the last real one, if any.
        const timedOutAgainstDeadline = kind.code.endsWith("_TIMEOUT") && allowance < wanted;
        if (timedOutAgainstDeadline) throw this.timeout(ctx, request, attempt, lastFailure, err);
        lastFailure = `${kind.code}: ${message}`;
        if (Date.now() >= ctx.deadline) throw this.timeout(ctx, request, attempt, lastFailure, err);
        if (attempt >= maxAttempts) {
          throw new DplConnectionError({ ...ctxDetails(ctx), endpoint: this.endpoint, reason: lastFailure, attempts: attempt, cause: err });
        }
        delay = this.backoff(attempt);
      }
      await sleep(Math.max(0, Math.min(delay, ctx.deadline - Date.now())));
    }
  }

  /** Maps a non-2xx reply to the error class of the brief: 401, 404, other 4xx, 5xx. */
  errorForStatus(ctx: OperationContext, reply: { status: number; text: string; attempts?: number }): DplError {
    const details = { ...ctxDetails(ctx), attempts: reply.attempts, ...serverErrorOf(reply.text) };
    if (reply.status === 401) return new AuthenticationError({ ...details, endpoint: this.endpoint, username: this.username });
    if (reply.status === 404) return new NotFoundError(details);
    if (reply.status >= 500) return new DplServerError({ ...details, status: reply.status });
    if (reply.status >= 400) return new DplRequestError({ ...details, status: reply.status });
    return new ProtocolError({ ...details, status: reply.status, problem: `unexpected HTTP status ${reply.status}` });
  }

  /** Parses a reply body with a wire schema; the first bad field names the problem. */
  parse<T extends z.ZodType>(ctx: OperationContext, schema: T, reply: DplResponse): z.output<T> {
    let json: unknown;
    try {
      json = JSON.parse(reply.text);
    } catch {
      const start = reply.text.slice(0, 60).replace(/\s+/g, " ");
      throw new ProtocolError({ ...ctxDetails(ctx), status: reply.status, problem: `the reply body is not JSON (starts "${start}")` });
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? "(body)" : issue.path.map(String).join(".");
    throw new ProtocolError({
      ...ctxDetails(ctx),
      status: reply.status,
      field,
      problem: `field ${field}: ${issue?.message ?? "invalid"}`,
    });
  }

  private headersFor(request: DplRequest, preferWaitSeconds: number): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: this.authorization,
      accept: CDMI_CONTAINER,
      [CDMI_SPEC_HEADER]: CDMI_SPEC_VERSION,
    };
    if (request.body !== undefined) headers["content-type"] = CDMI_CONTAINER;
    if (preferWaitSeconds > 0) headers[PREFER_HEADER] = preferWait(preferWaitSeconds);
    return headers;
  }

  private backoff(attempt: number): number {
    return backoffDelayMs(attempt, { baseDelayMs: this.options.retryBaseDelayMs, maxDelayMs: this.options.retryMaxDelayMs });
  }

  private timeout(ctx: OperationContext, request: DplRequest, attempts: number, lastFailure: string | undefined, cause?: unknown): TimeoutError {
    const waitingFor = request.waitingFor ?? `${request.method} ${request.path}`;
    return new TimeoutError({
      ...ctxDetails(ctx),
      attempts,
      timeoutMs: ctx.timeoutMs,
      waitingFor: lastFailure === undefined ? waitingFor : `${waitingFor} (last failure: ${lastFailure})`,
      eventId: request.eventId,
      cause,
    });
  }

  private unreachable(ctx: OperationContext, err: unknown, kind: { code: string | undefined; tls: boolean; invalidHttp: boolean }, attempts: number): DplError {
    const message = (err as Error).message;
    if (kind.invalidHttp) {
      return new ProtocolError({ ...ctxDetails(ctx), attempts, problem: `not a valid HTTP reply (${kind.code ?? "?"}: ${message})`, cause: err });
    }
    const hint = kind.tls ? " — pass the server's CA certificate (ca / DPL_CA_FILE), or insecure: true to skip verification" : "";
    const code = kind.code === undefined ? "" : `${kind.code}: `;
    return new DplConnectionError({ ...ctxDetails(ctx), endpoint: this.endpoint, reason: `${code}${message}${hint}`, attempts, cause: err });
  }
}

/** Rejects with the signal's reason once it aborts. */
function abortedBy(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener("abort", () => { reject(signal.reason as Error); }, { once: true });
  });
}

/** One attempt ran out of its time (the request timeout, or what was left of the deadline). */
class AttemptTimeoutError extends Error {
  readonly code = "DPL_ATTEMPT_TIMEOUT";
  constructor(ms: number) {
    super(`no complete reply within ${ms} ms`);
  }
}

function ctxDetails(ctx: OperationContext): { operation: string; objectId: string | undefined } {
  return { operation: ctx.operation, objectId: ctx.objectId };
}

function isDplError(err: unknown): err is DplError {
  return err instanceof Error && "operation" in err;
}

/** The server's `{ error: { code, message, field } }`, or the start of whatever it sent. */
function serverErrorOf(text: string): { code?: string; field?: string; serverMessage?: string } {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) {
      const { code, message, field } = parsed.data.error;
      return field === undefined ? { code, serverMessage: message } : { code, serverMessage: message, field };
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const trimmed = text.trim().slice(0, 200);
  return trimmed === "" ? {} : { serverMessage: trimmed };
}
