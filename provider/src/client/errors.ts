/**
 * Every failure the DPL client reports is a DplError: the operation it was doing ("create
 * volume"), the object it was about, and what the server (or the network) said. Messages read
 * `create volume <id>: INSUFFICIENT_CAPACITY: <server message>` so a Pulumi error line is enough
 * to act on. Credentials never appear in any message.
 */

export interface DplErrorDetails {
  operation: string;
  objectId?: string | undefined;
  status?: number | undefined;
  code?: string | undefined;
  /** Dotted path of the request field the server (or local validation) blamed. */
  field?: string | undefined;
  /** The server's own message, verbatim. */
  serverMessage?: string | undefined;
  /** Requests sent for this call, retries included. */
  attempts?: number | undefined;
  cause?: unknown;
}

export function describeTarget(operation: string, objectId: string | undefined): string {
  return objectId === undefined ? operation : `${operation} ${objectId}`;
}

export class DplError extends Error {
  readonly operation: string;
  readonly objectId: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly serverMessage: string | undefined;
  readonly attempts: number | undefined;

  constructor(details: DplErrorDetails, reason: string) {
    super(`${describeTarget(details.operation, details.objectId)}: ${reason}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.operation = details.operation;
    this.objectId = details.objectId;
    this.status = details.status;
    this.code = details.code;
    this.field = details.field;
    this.serverMessage = details.serverMessage;
    this.attempts = details.attempts;
  }
}

function codeAndMessage(details: DplErrorDetails, fallback: string): string {
  const message = details.serverMessage ?? fallback;
  const withField =
    details.field !== undefined && !message.includes(details.field) ? `${message} (field ${details.field})` : message;
  return details.code === undefined ? withField : `${details.code}: ${withField}`;
}

/** The server answered 404 for the object the operation is about. */
export class NotFoundError extends DplError {
  constructor(details: DplErrorDetails) {
    super({ code: "NOT_FOUND", ...details, status: 404 }, codeAndMessage({ code: "NOT_FOUND", ...details }, "not found"));
  }
}

/** 401: the user name and password were refused. */
export class AuthenticationError extends DplError {
  constructor(details: DplErrorDetails & { endpoint: string; username: string }) {
    super(
      { code: "UNAUTHENTICATED", ...details, status: 401 },
      `DPL server at ${details.endpoint} rejected the credentials for user "${details.username}"`,
    );
  }
}

/** Any other 4xx: the request was refused; `code`/`field` say why. */
export class DplRequestError extends DplError {
  constructor(details: DplErrorDetails & { status: number }) {
    super(details, codeAndMessage(details, `HTTP ${details.status}`));
  }
}

/** 5xx (after retries, for 503). */
export class DplServerError extends DplError {
  constructor(details: DplErrorDetails & { status: number }) {
    const base = codeAndMessage(details, `HTTP ${details.status}`);
    super(details, details.attempts !== undefined && details.attempts > 1 ? `${base} (after ${details.attempts} attempts)` : base);
  }
}

/** The server could not be reached (refused, reset, TLS failure), after the allowed retries. */
export class DplConnectionError extends DplError {
  constructor(details: DplErrorDetails & { endpoint: string; reason: string }) {
    const attempts = details.attempts !== undefined && details.attempts > 1 ? ` (after ${details.attempts} attempts)` : "";
    super(details, `cannot reach DPL server at ${details.endpoint}: ${details.reason}${attempts}`);
  }
}

/** A reply that is not what the wire contract says (bad JSON, a missing or mistyped field). */
export class ProtocolError extends DplError {
  constructor(details: DplErrorDetails & { problem: string }) {
    super(details, `unexpected reply from the DPL server: ${details.problem}`);
  }
}

/** An input refused by the client before anything was sent. */
export class DplValidationError extends DplError {
  constructor(details: DplErrorDetails & { problem: string }) {
    super({ code: "INVALID_ARGUMENT", ...details }, `INVALID_ARGUMENT: ${details.problem}`);
  }
}

/** The asynchronous operation finished with completionStatus "Error". */
export class DplOperationError extends DplError {
  readonly eventId: string;
  constructor(details: DplErrorDetails & { eventId: string }) {
    super(details, `${codeAndMessage(details, "the operation failed")} (event ${details.eventId})`);
    this.eventId = details.eventId;
  }
}

/** The operation's deadline passed (a slow request, a retry storm or an event that never ends). */
export class TimeoutError extends DplError {
  readonly eventId: string | undefined;
  constructor(details: DplErrorDetails & { timeoutMs: number; waitingFor: string; eventId?: string | undefined }) {
    super({ code: "TIMEOUT", ...details }, `timed out after ${details.timeoutMs} ms waiting for ${details.waitingFor}`);
    this.eventId = details.eventId;
  }
}
