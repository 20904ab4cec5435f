import { z } from "zod";
import { Description, DisplayName, HexId } from "./ids";
import { Envelope } from "./envelope";

/** `PUT /v1/dpl_export/<target>/` — create a target (never called by the historical client). */
export const TargetCreateBody = z.object({
  metadata: z.object({
    type: z.literal("target"),
    protocol: z.enum(["iscsi", "fc"]),
    display_name: DisplayName.nullable().optional(),
    display_description: Description.nullable().optional(),
    /** IQN (iSCSI) or WWPN (FC); the server chooses an IQN when omitted. */
    address: z.string().max(223).optional(),
  }).strict(),
}).strict();
export type TargetCreateBody = z.input<typeof TargetCreateBody>;

export const TargetReply = Envelope.extend({
  metadata: z.object({
    type: z.literal("target"),
    target_uuid: HexId,
    protocol: z.enum(["iscsi", "fc"]),
    display_name: z.string(),
    display_description: z.string().nullable(),
    address: z.string(),
    /** Volumes mapped on this target. */
    volumes: z.array(z.string()),
    ctime: z.number(),
  }),
  children: z.array(z.string()),
});
export type TargetReply = z.infer<typeof TargetReply>;

/** `GET /v1/dpl_export/?type=target|initiator`: `[uuid, name, address]` triples. */
export const TargetListReply = Envelope.extend({
  children: z.array(z.tuple([z.string(), z.string(), z.string()])),
  metadata: z.object({}).loose(),
});
export type TargetListReply = z.infer<typeof TargetListReply>;

/** `PUT /v1/dpl_export/sns_table/`: an FC name-server query (answered empty: no FC engine). */
export const SnsTableBody = z.object({
  metadata: z.object({ protocol: z.literal("fc"), address: z.string() }).strict(),
}).strict();
