/** What every route handler needs: strict body parsing, id checks, and the 202/Prefer-wait dance. */
import { HexId, parsePreferWait, PREFER_HEADER } from "@prophetstor/dpl-provider/wire";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { DomainError } from "../core/domain-error";
import type { StartedJob } from "../core/jobs";
import type { DplCore } from "../core/dpl-core";
import type { EventRecord } from "../core/records";
import { acceptedReply, eventReply } from "./replies";

/** `Prefer: wait=N` is honoured up to this many seconds. */
const MAX_PREFER_WAIT_S = 300;

type Issue = z.core.$ZodIssue;

function deepestIssue(issues: readonly Issue[]): Issue | undefined {
  let best: Issue | undefined;
  for (const issue of issues) {
    let candidate: Issue = issue;
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // The branch that got furthest into the body is the one the client meant.
      const branches = issue.errors.map((branch) => deepestIssue(branch)).filter((i): i is Issue => i !== undefined);
      const deepest = branches.sort((a, b) => b.path.length - a.path.length)[0];
      if (deepest !== undefined) candidate = { ...deepest, path: [...issue.path, ...deepest.path] };
    }
    if (best === undefined || candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join(".");
}

/** Parses with a strict wire schema; a refusal names the offending field (zod issue path). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, fieldPrefix = ""): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = deepestIssue(result.error.issues);
  const path = [...(fieldPrefix === "" ? [] : [fieldPrefix]), ...(issue?.path ?? [])];
  let message = issue?.message ?? "invalid request";
  if (issue?.code === "unrecognized_keys") {
    message = `unknown field(s): ${issue.keys.join(", ")}`;
    if (issue.keys.length === 1 && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  }
  const field = fieldOf(path);
  throw new DomainError("INVALID_ARGUMENT", field === "" ? message : `${field}: ${message}`, field === "" ? undefined : field);
}

/** The refusal of a path segment that is not a 32-hex id (undefined: it is one). */
export function badPathId(name: string, value: string): DomainError | undefined {
  if (HexId.safeParse(value).success) return undefined;
  return new DomainError("INVALID_ARGUMENT", `path segment ${name} ${JSON.stringify(value.slice(0, 80))} must be 32 lowercase hex characters`, `path.${name}`);
}

/** A path segment that must be a 32-hex id. */
export function hexParam(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, string | undefined>)[name] ?? "";
  const refusal = badPathId(name, value);
  if (refusal !== undefined) throw refusal;
  return value;
}

export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
}

export function preferWaitMs(request: FastifyRequest): number | undefined {
  const header = request.headers[PREFER_HEADER];
  const seconds = parsePreferWait(Array.isArray(header) ? header.join(",") : header);
  return seconds === undefined ? undefined : Math.min(seconds, MAX_PREFER_WAIT_S) * 1000;
}

export interface JobReplyOptions {
  objectId: string;
  parentURI: string;
  /** Status for a finished job's final object (201 for creates, 200 otherwise). */
  finishedStatus: 200 | 201;
  /** The final object once the job is Complete; undefined when it is gone (deletes). */
  finalReply: () => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
}

/**
 * 202 + event_uuid while the job runs (the classic DPL answer). When the job has already
 * finished — an idempotent retry, or within the client's `Prefer: wait=N` — the final object
 * instead (or the job's error).
 */
export async function replyToJob(core: DplCore, request: FastifyRequest, reply: FastifyReply, job: StartedJob, options: JobReplyOptions): Promise<unknown> {
  const waitMs = preferWaitMs(request);
  let event: EventRecord = job.event;
  if (event.status === "Processing" && waitMs !== undefined && waitMs > 0) {
    event = (await core.jobs.waitFor(event.id, waitMs)) ?? event;
  }
  if (event.status === "Processing") {
    if (waitMs !== undefined) void reply.header("preference-applied", `wait=${Math.floor(waitMs / 1000)}`);
    return reply.code(202).send(acceptedReply(event, options.objectId, options.parentURI));
  }
  if (event.status === "Error") {
    throw new DomainError(event.errorCode ?? "INTERNAL", event.errorMessage ?? "operation failed");
  }
  const final = await options.finalReply();
  if (final === undefined) return reply.code(200).send(eventReply(event, options.parentURI));
  const metadata = typeof final.metadata === "object" && final.metadata !== null ? final.metadata : {};
  const status = job.reused ? 200 : options.finishedStatus;
  return reply.code(status).send({ ...final, metadata: { ...metadata, event_uuid: event.id } });
}

/** `GET <object>/?event_uuid=`: the event (long-polled with Prefer: wait), the object merged in when Complete. */
export async function replyToEventPoll(
  core: DplCore, request: FastifyRequest, reply: FastifyReply, objectId: string, eventId: string, parentURI: string,
  objectReply: () => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>,
): Promise<unknown> {
  const known = core.jobs.event(eventId);
  if (known?.objectId !== objectId) throw new DomainError("NOT_FOUND", `event ${eventId} of ${objectId} does not exist`);
  const event = (await core.jobs.waitFor(eventId, preferWaitMs(request) ?? 0)) ?? known;
  const object = event.status === "Complete" ? await Promise.resolve().then(objectReply).catch(() => undefined) : undefined;
  return reply.code(200).send(eventReply(event, parentURI, object as ({ metadata: object } & Record<string, unknown>) | undefined));
}

export function eventUuidOf(request: FastifyRequest): string | undefined {
  const raw = queryParam(request, "event_uuid");
  if (raw === undefined) return undefined;
  // Historical clients strip hyphens from event ids; accept either form.
  const normalised = raw.replace(/-/g, "").toLowerCase();
  if (!HexId.safeParse(normalised).success) throw new DomainError("INVALID_ARGUMENT", "event_uuid must be 32 hex characters", "query.event_uuid");
  return normalised;
}
