import { setTimeout as sleep } from "node:timers/promises";
import { EventReply } from "../wire";
import { DplOperationError, TimeoutError } from "./errors";
import type { DplTransport, OperationContext } from "./transport";

export interface EventWaitSettings {
  /** Seconds each poll asks the server to hold (`Prefer: wait=N`); 0 sends no Prefer. */
  preferWaitSeconds: number;
  /** Sleeps between polls answered at once (servers that ignore Prefer); the last one repeats. */
  pollDelaysMs: readonly number[];
}

export interface EventToWaitFor {
  /** The object path the event belongs to, e.g. `/v1/dpl_volume/<vol>/` (snapshots: the parent volume). */
  objectPath: string;
  eventId: string;
  /** Deletes: the object (and its events) may be gone before the first poll — that is success. */
  notFoundMeansDone: boolean;
}

/**
 * Polls `<object>?event_uuid=<ev>` until the event is Complete (returns) or Error
 * (DplOperationError), within the call's deadline (TimeoutError naming the event). Each poll
 * asks the server to hold it; a reply that comes back early is followed by a short sleep from
 * `pollDelaysMs`, so fast operations finish in milliseconds against servers without long-poll.
 */
export async function waitForEvent(transport: DplTransport, ctx: OperationContext, event: EventToWaitFor, settings: EventWaitSettings): Promise<void> {
  const path = `${event.objectPath}?event_uuid=${encodeURIComponent(event.eventId)}`;
  const waitingFor = `event ${event.eventId} to finish`;
  for (let poll = 0; ; poll++) {
    const remaining = ctx.deadline - Date.now();
    if (remaining <= 0) throw eventTimeout(ctx, event.eventId, waitingFor);
    const holdSeconds = Math.min(settings.preferWaitSeconds, Math.floor(remaining / 1000));
    const started = Date.now();
    const reply = await transport.send(ctx, { method: "GET", path, preferWaitSeconds: holdSeconds, waitingFor, eventId: event.eventId });
    if (reply.status === 404 && event.notFoundMeansDone) return;
    if (reply.status === 200) {
      const { completionStatus, event: info } = transport.parse(ctx, EventReply, reply);
      if (completionStatus === "Complete") return;
      if (completionStatus === "Error") {
        throw new DplOperationError({
          operation: ctx.operation,
          objectId: ctx.objectId,
          status: reply.status,
          code: info.error_code,
          serverMessage: info.error_message,
          eventId: event.eventId,
        });
      }
    } else if (reply.status !== 202) {
      throw transport.errorForStatus(ctx, reply);
    }
    const heldForItsWait = holdSeconds > 0 && Date.now() - started >= holdSeconds * 900;
    if (!heldForItsWait) {
      const delay = settings.pollDelaysMs[Math.min(poll, settings.pollDelaysMs.length - 1)] ?? 1000;
      await sleep(Math.max(0, Math.min(delay, ctx.deadline - Date.now())));
    }
  }
}

function eventTimeout(ctx: OperationContext, eventId: string, waitingFor: string): TimeoutError {
  return new TimeoutError({ operation: ctx.operation, objectId: ctx.objectId, timeoutMs: ctx.timeoutMs, waitingFor, eventId });
}
