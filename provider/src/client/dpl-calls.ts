/**
 * What every DplClient call goes through: an operation with its own deadline, ids checked before
 * they reach a URL, bodies built through their wire schemas, mutations sent with `Prefer: wait`
 * and followed to completion (202 → event wait), replies parsed by their schemas.
 */
import type { z } from "zod";
import { AcceptedReply, HexId } from "../wire";
import { DplValidationError, NotFoundError } from "./errors";
import { waitForEvent } from "./event-wait";
import { DplClientOptions, type ResolvedDplClientOptions } from "./options";
import { DplTransport, type DplRequest, type DplResponse, type OperationContext } from "./transport";

interface MutationOptions {
  /** Where the operation's events are polled (default: the request path). */
  eventPath?: string;
  /** Deletes and unassigns: 404 (object or assignment already gone) is success. */
  notFoundMeansDone?: boolean;
}

export abstract class DplCalls {
  readonly options: ResolvedDplClientOptions;
  protected readonly transport: DplTransport;

  constructor(options: DplClientOptions) {
    this.options = DplClientOptions.resolve(options);
    this.transport = new DplTransport(this.options);
  }

  get endpoint(): string {
    return this.transport.endpoint;
  }

  /** Closes the keep-alive connections; calls in flight finish first. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  protected context(operation: string, objectId?: string): OperationContext {
    const timeoutMs = this.options.operationTimeoutMs;
    return { operation, objectId, deadline: Date.now() + timeoutMs, timeoutMs };
  }

  /** Ids go into URL paths: anything but 32 lowercase hex is refused before sending. */
  protected hexId(ctx: OperationContext, id: string, what = "id"): string {
    const parsed = HexId.safeParse(id);
    if (parsed.success) return parsed.data;
    throw new DplValidationError({ operation: ctx.operation, objectId: ctx.objectId, field: what, problem: `${what} "${id}" ${parsed.error.issues[0]?.message ?? "is invalid"}` });
  }

  /** Builds a request body through its wire schema (defaults applied), naming the first bad field. */
  protected body<T extends z.ZodType>(ctx: OperationContext, schema: T, value: z.input<T>): z.output<T> {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? "(body)" : issue.path.map(String).join(".");
    throw new DplValidationError({ operation: ctx.operation, objectId: ctx.objectId, field, problem: `${field}: ${issue?.message ?? "invalid"}` });
  }

  protected async fetch<T extends z.ZodType>(ctx: OperationContext, path: string, schema: T): Promise<z.output<T>> {
    const reply = await this.transport.send(ctx, { method: "GET", path });
    if (reply.status !== 200) throw this.transport.errorForStatus(ctx, reply);
    return this.transport.parse(ctx, schema, reply);
  }

  /**
   * The object after a mutation: the reply itself when the server answered with the finished
   * object (it does under `Prefer: wait`), otherwise read back with a GET.
   */
  protected async finalObject<T extends z.ZodType<{ objectID: string }>>(
    ctx: OperationContext, reply: DplResponse | undefined, objectId: string, path: string, schema: T,
  ): Promise<z.output<T>> {
    if (reply !== undefined && (reply.status === 200 || reply.status === 201)) {
      const parsed = safeJson(reply.text);
      const object = parsed === undefined ? undefined : schema.safeParse(parsed);
      if (object?.success === true && object.data.objectID === objectId) return object.data;
    }
    return this.fetch(ctx, path, schema);
  }

  protected async fetchIfExists<T extends z.ZodType>(ctx: OperationContext, path: string, schema: T): Promise<z.output<T> | undefined> {
    try {
      return await this.fetch(ctx, path, schema);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Sends a mutating request with `Prefer: wait=N` (most calls then complete in one round trip)
   * and, on 202, waits for its event. Resolves once the operation is complete: with the reply
   * when the server answered the request itself with a success, undefined otherwise.
   */
  protected async mutate(ctx: OperationContext, request: DplRequest, options: MutationOptions = {}): Promise<DplResponse | undefined> {
    const notFoundMeansDone = options.notFoundMeansDone ?? false;
    const reply = await this.transport.send(ctx, { ...request, preferWaitSeconds: this.options.preferWaitSeconds });
    if (reply.status === 202) {
      const accepted = this.transport.parse(ctx, AcceptedReply, reply);
      const event = { objectPath: options.eventPath ?? request.path, eventId: accepted.metadata.event_uuid, notFoundMeansDone };
      await waitForEvent(this.transport, ctx, event, { preferWaitSeconds: this.options.preferWaitSeconds, pollDelaysMs: this.options.eventPollDelaysMs });
      return undefined;
    }
    if (reply.status >= 200 && reply.status < 300) return reply;
    const error = this.transport.errorForStatus(ctx, reply);
    if (error instanceof NotFoundError && notFoundMeansDone) return undefined;
    // A retried create whose first attempt reached the server finds its own object.
    if (error.code === "ALREADY_EXISTS" && reply.earlierAttemptMayHaveApplied) return undefined;
    throw error;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
