import { z } from "zod";

/** The media type DPL clients send and accept; its bodies are plain JSON. */
export const CDMI_CONTAINER = "application/cdmi-container";
export const CDMI_SPEC_HEADER = "x-cdmi-specification-version";
export const CDMI_SPEC_VERSION = "1.0.2";

/** CDMI completion states as DPL uses them (CDMI's "Processing" while running). */
export const CompletionStatus = z.enum(["Processing", "Complete", "Error"]);
export type CompletionStatus = z.infer<typeof CompletionStatus>;

/** The CDMI container envelope every object reply carries. */
export const Envelope = z.object({
  objectType: z.string(),
  objectID: z.string(),
  objectName: z.string(),
  parentURI: z.string(),
  parentID: z.string(),
  domainURI: z.string(),
  capabilitiesURI: z.string(),
  completionStatus: CompletionStatus,
  percentComplete: z.number(),
  childrenrange: z.string(),
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * Error codes of this DPL implementation. The historical protocol never defined error bodies;
 * this one does: every 4xx/5xx carries `{ error: { code, message, field? } }`.
 */
export const ErrorCode = z.enum([
  "INVALID_ARGUMENT",
  "UNKNOWN_OPERATION",
  "UNAUTHENTICATED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "CONFLICT",
  "BUSY",
  "INSUFFICIENT_CAPACITY",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED",
  /** The server runs as many jobs as it allows; retry after the reply's Retry-After. */
  "OVERLOADED",
  "ENGINE_FAILURE",
  "INTERNAL",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    /** Dotted path of the offending request field, when one field is to blame. */
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A 202 reply: the operation runs on; poll the object with `?event_uuid=`. */
export const AcceptedReply = z.object({
  metadata: z.object({ event_uuid: z.string().min(1) }).loose(),
}).loose();
export type AcceptedReply = z.infer<typeof AcceptedReply>;

/**
 * RFC 7240 preference this server honours: `Prefer: wait=N` makes a mutating call (or an event
 * poll) hold up to N seconds for completion before answering 202, saving clients a poll loop.
 * Historical clients never send it and get the classic 202 + event_uuid behaviour.
 */
export const PREFER_HEADER = "prefer";
export function preferWait(seconds: number): string {
  return `wait=${Math.max(0, Math.floor(seconds))}`;
}
export function parsePreferWait(header: string | undefined): number | undefined {
  const m = header === undefined ? null : /(?:^|[,;\s])wait=(\d+)/.exec(header);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Children lists are `[uuid, name]` pairs (what the historical pool-list consumer unpacks). */
export const IdNamePair = z.tuple([z.string(), z.string()]);
