import { z } from "zod";
import { Bytes, HexId } from "./ids";
import { Envelope, IdNamePair } from "./envelope";

export const SnapshotMetadata = z.object({
  type: z.literal("snapshot"),
  snapshot_uuid: HexId,
  display_name: z.string(),
  display_description: z.string().nullable(),
  /** The volume (or, for group snapshots, the group) the snapshot was taken of. */
  origin_uuid: HexId,
  /** Logical size of the volume when the snapshot was taken. */
  total_capacity: Bytes,
  /** Bytes held only by this snapshot (not shared with the live volume), when known. */
  snapshot_used_capacity: Bytes,
  volume_group_uuid: z.string().nullable(),
  state: z.enum(["available", "deleting", "error"]),
  ctime: z.number(),
});
export type SnapshotMetadata = z.infer<typeof SnapshotMetadata>;

/** `GET /v1/dpl_volume/<vol>/cdmi_snapshots/<snap>/` (read-only snapshot) */
export const SnapshotReply = Envelope.extend({ metadata: SnapshotMetadata, children: z.array(z.string()) });
export type SnapshotReply = z.infer<typeof SnapshotReply>;

/** `GET /v1/dpl_volume/<vol>/cdmi_snapshots/` */
export const SnapshotListReply = Envelope.extend({ children: z.array(IdNamePair), metadata: z.object({}).loose() });
export type SnapshotListReply = z.infer<typeof SnapshotListReply>;
