import { z } from "zod";
import { Bytes, Description, DisplayName, HexId } from "./ids";
import { Envelope, IdNamePair } from "./envelope";

/**
 * Replication (not in the historical client; designed in its multiplexed-PUT style): a volume
 * on this server kept in step with a replica on another DPL server, asynchronously, by snapshots
 * (btrfs send, incremental from the last snapshot both sides hold) streamed over the peers'
 * authenticated HTTPS. `PUT /v1/dpl_replication/<id>/` creates a relationship on the source;
 * the same path takes the operations: sync now, promote the replica (on the target), reverse the
 * direction (on a promoted target, toward the old source), and the server-to-server steps.
 */

/** How one DPL server reaches another: its URL, credentials (write-only) and, for a self-signed certificate, that certificate. */
export const ReplicationPeer = z.object({
  url: z.url("must be an absolute URL").regex(/^https?:\/\//, "must be an http(s) URL").max(2048),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024),
  /** PEM: the peer's certificate (or its CA), trusted for this peer only. */
  ca_certificate: z.string().max(65536).optional(),
}).strict();
export type ReplicationPeer = z.infer<typeof ReplicationPeer>;

export const MIN_RPO_SECONDS = 10;
/** The most volumes one relationship carries (a volume group's members). */
export const MAX_REPLICATED_VOLUMES = 256;
const RpoSeconds = z.number().int("must be whole seconds").min(MIN_RPO_SECONDS, `must be at least ${MIN_RPO_SECONDS} seconds`).max(366 * 86400);
const RateLimit = z.number().int().min(64 * 1024, "must be at least 65536 bytes per second");

export const ReplicationCreateBody = z.object({
  metadata: z.object({
    display_name: DisplayName.nullable().optional(),
    display_description: Description.nullable().optional(),
    /** The volume to replicate; or, instead, `source_volume_group`. */
    source_volume: HexId.optional(),
    /** A volume group: every member is replicated at one instant, and the replicas share that point in time. */
    source_volume_group: HexId.optional(),
    target: ReplicationPeer,
    /** The pool on the target server that holds the replica (same id as the source volume). */
    target_pool_uuid: HexId,
    /** A sync starts when the last synced snapshot is this old; null or absent: on demand only. */
    rpo_seconds: RpoSeconds.nullable().optional(),
    /** Caps the bytes per second a sync sends; absent: as fast as the link goes. */
    rate_limit_bytes_per_second: RateLimit.nullable().optional(),
  }).strict().refine((m) => (m.source_volume === undefined) !== (m.source_volume_group === undefined), {
    message: "name exactly one of source_volume and source_volume_group", path: ["source_volume"],
  }),
}).strict();
export type ReplicationCreateBody = z.infer<typeof ReplicationCreateBody>;

export const ReplicationSettingsBody = z.object({
  metadata: z.object({
    replication_settings: z.object({
      display_name: DisplayName.nullable().optional(),
      rpo_seconds: RpoSeconds.nullable().optional(),
      rate_limit_bytes_per_second: RateLimit.nullable().optional(),
      /** New credentials (or certificate) for the same target; the URL cannot change. */
      target: ReplicationPeer.optional(),
    }).strict(),
  }).strict(),
}).strict();
export type ReplicationSettingsBody = z.infer<typeof ReplicationSettingsBody>;

/** One volume's stream of a sync: the snapshot it brings, and what the stream is. */
export const TransferCommit = z.object({
  volume: HexId,
  snapshot: HexId,
  /** The snapshot the stream is incremental from (both sides hold it); null: a full stream. */
  parent_snapshot: HexId.nullable(),
  bytes: Bytes,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  volume_size: Bytes,
}).strict();
export type TransferCommit = z.infer<typeof TransferCommit>;

export const ReplicationOperationBody = z.object({
  metadata: z.discriminatedUnion("replication_operation", [
    /** On the source: take a snapshot and send it now (202 + event). */
    z.object({ replication_operation: z.literal("sync") }).strict(),
    /** On the target: the replica becomes a writable, exportable volume; syncs into it stop. */
    z.object({ replication_operation: z.literal("promote") }).strict(),
    /** On a promoted target: become the source toward `peer` (the old source), which catches up incrementally. */
    z.object({ replication_operation: z.literal("reverse"), peer: ReplicationPeer }).strict(),
    // Server to server.
    /** Sent by a source to its target: record the relationship there. */
    z.object({
      replication_operation: z.literal("accept"),
      volumes: z.array(HexId).min(1).max(MAX_REPLICATED_VOLUMES),
      volume_group: HexId.nullable().optional(),
      pool_uuid: HexId,
      display_name: DisplayName.nullable().optional(),
    }).strict(),
    /** Sent by a promoted target to its old source: become the target of the reversed relationship, from the snapshots both hold. */
    z.object({ replication_operation: z.literal("demote"), bases: z.array(z.object({ volume: HexId, snapshot: HexId }).strict()).min(1).max(MAX_REPLICATED_VOLUMES) }).strict(),
    /** Sent by a source when every stream of a sync has arrived: verify, receive and publish them together. */
    z.object({
      replication_operation: z.literal("commit"),
      /** When the source took the snapshots (ms): the replicas' point in time. */
      snapshot_time: z.number().int().nonnegative(),
      transfers: z.array(TransferCommit).min(1).max(MAX_REPLICATED_VOLUMES),
    }).strict(),
  ]),
}).strict();
export type ReplicationOperationBody = z.infer<typeof ReplicationOperationBody>;
/** One operation's metadata, by its `replication_operation`. */
export type ReplicationOperation<Name extends ReplicationOperationBody["metadata"]["replication_operation"]> =
  Extract<ReplicationOperationBody["metadata"], { replication_operation: Name }>;

export type ReplicationPut =
  | { op: "create"; schema: typeof ReplicationCreateBody }
  | { op: "settings"; schema: typeof ReplicationSettingsBody }
  | { op: "operation"; schema: typeof ReplicationOperationBody };

/** Chooses the operation a `PUT /v1/dpl_replication/<id>/` body asks for. */
export function classifyReplicationPut(body: unknown): ReplicationPut {
  const metadata = typeof body === "object" && body !== null ? (body as { metadata?: unknown }).metadata : undefined;
  const keys = typeof metadata === "object" && metadata !== null ? Object.keys(metadata) : [];
  if (keys.includes("replication_operation")) return { op: "operation", schema: ReplicationOperationBody };
  if (keys.includes("replication_settings")) return { op: "settings", schema: ReplicationSettingsBody };
  return { op: "create", schema: ReplicationCreateBody };
}

export const ReplicationRole = z.enum(["source", "target"]);
export const ReplicationState = z.enum(["idle", "syncing", "error", "replica", "promoted"]);

export const ReplicationReply = Envelope.extend({
  metadata: z.object({
    replication_uuid: HexId,
    display_name: z.string().nullable(),
    display_description: z.string().nullable(),
    role: ReplicationRole,
    /** source: syncing or idle (error: the last sync failed); target: replica (read-only) or promoted. */
    state: ReplicationState,
    /** The volume on this server (the source, or the replica); null when the relationship carries a volume group. */
    volume: HexId.nullable(),
    /** The volume group whose members are replicated together; null: one volume. */
    volume_group: HexId.nullable(),
    /** Every volume the relationship carries, with the snapshot of it both sides hold and the stream of a sync under way. */
    volumes: z.array(z.object({
      volume: HexId,
      last_synced_snapshot: HexId.nullable(),
      transfer: z.object({ snapshot: HexId, parent_snapshot: HexId.nullable(), bytes: Bytes, sha256: z.string() }).nullable(),
    })),
    pool_uuid: HexId,
    /** The other server (its URL only; credentials are write-only). Null on a target until it is reversed. */
    peer_url: z.string().nullable(),
    /** On the source: the target's pool. */
    peer_pool_uuid: HexId.nullable(),
    rpo_seconds: z.number().nullable(),
    rate_limit_bytes_per_second: z.number().nullable(),
    /** Of one volume: the newest snapshot both sides hold (the next sync's parent); of a group, see `volumes`. */
    last_synced_snapshot: HexId.nullable(),
    /** When the snapshots both sides hold were taken on the source (ms): the replicas' point in time. */
    last_synced_snapshot_time: z.number().nullable(),
    last_sync_finished: z.number().nullable(),
    /** Seconds the replica is behind now (now minus the last synced snapshot's time); null before the first sync. */
    lag_seconds: z.number().nullable(),
    /** Stream bytes the last sync sent (a resumed sync: what it sent after resuming). */
    last_sync_bytes: Bytes,
    total_bytes_sent: Bytes,
    last_error: z.string().nullable(),
    /** Of one volume: a transfer under way or interrupted (resumed by the next sync), on the source; of a group, see `volumes`. */
    transfer: z.object({ snapshot: HexId, parent_snapshot: HexId.nullable(), bytes: Bytes, sha256: z.string() }).nullable(),
  }),
});
export type ReplicationReply = z.infer<typeof ReplicationReply>;

export const ReplicationListReply = Envelope.extend({ children: z.array(IdNamePair), metadata: z.object({}).loose() });

/** What a target holds of one transfer: the bytes received so far (a resumed upload starts there). */
export const TransferReply = z.object({
  snapshot: HexId,
  received_bytes: Bytes,
  /** Every body byte written for this transfer, resends included: equals received_bytes when nothing was sent twice. */
  written_bytes: Bytes,
});
export type TransferReply = z.infer<typeof TransferReply>;
