import { z } from "zod";
import { Bytes, Description, DisplayName, HexId } from "./ids";
import { Envelope } from "./envelope";

/** `PUT /dpl_volgroup/<vg>/` (no /v1, as the historical client sends it): create. */
export const VolgroupCreateBody = z.object({
  metadata: z.object({
    volume: z.array(HexId).default([]),
    display_name: DisplayName.nullable().optional(),
    display_description: Description.nullable().optional(),
    maximum_snapshot: z.number().int().positive().optional(),
    properties: z.object({ snapshot_rotation: z.boolean().optional() }).strict().optional(),
  }).strict(),
}).strict();
export type VolgroupCreateBody = z.input<typeof VolgroupCreateBody>;

/** `PUT /dpl_volgroup/<vg>/`: join or leave. */
export const VolgroupMembershipBody = z.object({
  metadata: z.object({
    volume_group_operation: z.enum(["join", "leave"]),
    volume: z.array(HexId).min(1),
  }).strict(),
}).strict();
export type VolgroupMembershipBody = z.input<typeof VolgroupMembershipBody>;

/** `PUT /v1/dpl_volgroup/<vg>/` with a top-level `snapshot`: a consistent group snapshot. */
export const VolgroupSnapshotBody = z.object({
  metadata: z.object({
    display_name: DisplayName.nullable().optional(),
    display_description: Description.nullable().optional(),
  }).strict().optional(),
  snapshot: HexId,
}).strict();
export type VolgroupSnapshotBody = z.input<typeof VolgroupSnapshotBody>;

export type VolgroupPut =
  | { op: "snapshot"; schema: typeof VolgroupSnapshotBody }
  | { op: "membership"; schema: typeof VolgroupMembershipBody }
  | { op: "create"; schema: typeof VolgroupCreateBody };

export function classifyVolgroupPut(body: unknown): VolgroupPut | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const rec = body as Record<string, unknown>;
  if ("snapshot" in rec) return { op: "snapshot", schema: VolgroupSnapshotBody };
  const meta = rec.metadata;
  if (typeof meta === "object" && meta !== null && "volume_group_operation" in meta) {
    return { op: "membership", schema: VolgroupMembershipBody };
  }
  if (typeof meta === "object" && meta !== null) return { op: "create", schema: VolgroupCreateBody };
  return undefined;
}

export const VolgroupReply = Envelope.extend({
  /** Flat list of member volume ids. */
  children: z.array(z.string()),
  metadata: z.object({
    type: z.literal("volume_group"),
    volume_group_uuid: HexId,
    display_name: z.string().nullable(),
    display_description: z.string().nullable(),
    total_capacity: Bytes,
    maximum_snapshot: z.number().int(),
    snapshot_quota: z.number().int(),
    state: z.string(),
    properties: z.object({ snapshot_rotation: z.boolean() }),
    ctime: z.number(),
  }),
});
export type VolgroupReply = z.infer<typeof VolgroupReply>;

/** `GET /v1/dpl_volgroup/<vg>/cdmi_snapshots/<gsnap>/`: `metadata.member` maps volume → member snapshot. */
export const VolgroupSnapshotReply = Envelope.extend({
  children: z.array(z.string()),
  metadata: z.object({
    type: z.literal("snapshot"),
    snapshot_uuid: HexId,
    origin_uuid: HexId,
    display_name: z.string().nullable(),
    display_description: z.string().nullable(),
    member: z.record(z.string(), z.string()),
    ctime: z.number(),
  }),
});
export type VolgroupSnapshotReply = z.infer<typeof VolgroupSnapshotReply>;
