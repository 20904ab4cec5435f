import { z } from "zod";
import { CompletionStatus, ErrorCode } from "./envelope";

/**
 * Reply to `GET /v1/dpl_volume/<vol>/?event_uuid=<ev>` (and the pool/volgroup variants).
 * Finished events stay queryable. When Complete, the object's own fields are merged in (the
 * historical pool-info consumer uses the final poll reply as the pool detail).
 */
export const EventInfo = z.object({
  event_uuid: z.string(),
  operation: z.string(),
  object_uuid: z.string(),
  status: CompletionStatus,
  percent_complete: z.number(),
  error_code: ErrorCode.optional(),
  error_message: z.string().optional(),
  started: z.number(),
  finished: z.number().nullable(),
});
export type EventInfo = z.infer<typeof EventInfo>;

export const EventReply = z.object({
  completionStatus: CompletionStatus,
  percentComplete: z.number(),
  event: EventInfo,
  metadata: z.object({ event_uuid: z.string() }).loose(),
}).loose();
export type EventReply = z.infer<typeof EventReply>;
