/**
 * The DPL v1 route table: every path the protocol has, with each method's summary, request
 * bodies and replies as the wire schemas above. The client builds its URLs from it, the server
 * registers its fastify routes from it, and the OpenAPI document is written from it, so the three
 * cannot disagree. Every path is also served without `/v1` and with or without its trailing slash.
 */
import { z } from "zod";
import { AcceptedReply, Envelope } from "./envelope";
import { EventReply } from "./event";
import { ImageCreateBody, ImageListReply, ImageReply } from "./image";
import { IoStatsReply } from "./io-stats";
import {
  PoolCreateBody, PoolDeleteBody, PoolDeviceChangeBody, PoolListReply, PoolOperationBody, PoolReply, PoolScheduleBody, PoolSettingsBody,
} from "./pool";
import {
  ReplicationCreateBody, ReplicationListReply, ReplicationOperationBody, ReplicationReply, ReplicationSettingsBody, TransferReply,
} from "./replication";
import { SnapshotListReply, SnapshotReply } from "./snapshot";
import { DiskListReply, SystemReply } from "./system";
import { SnsTableBody, TargetCreateBody, TargetListReply, TargetReply } from "./target";
import { VolgroupCreateBody, VolgroupMembershipBody, VolgroupReply, VolgroupSnapshotBody, VolgroupSnapshotReply } from "./volgroup";
import {
  CloneBody, CopyFromSnapshotBody, ExportAssignBody, ExportUnassignBody, RollbackBody, SnapshotCreateBody, SpawnBody, VolumeCreateBody,
  VolumeDeleteBody, VolumeFromImageBody, VolumeListReply, VolumeModifyBody, VolumeReply,
} from "./volume";

export interface WireOperation {
  summary: string;
  /** Request body schemas; several mean "one of" (the server tells them apart by their keys). */
  body?: Record<string, z.ZodType>;
  /** Success status → reply schema (null: no JSON body). */
  replies: Record<string, z.ZodType | null>;
  /** Query parameters, with what each means. */
  query?: Record<string, string>;
  /** The request body is raw bytes (application/octet-stream), as this says. */
  bytes?: string;
}

export type WireMethod = "get" | "put" | "delete";

export interface WireRoute {
  /** With `{param}` placeholders, e.g. /v1/dpl_volume/{volume}/cdmi_snapshots/. */
  path: string;
  /** The path's placeholders in order: each a 32-hex DPL id. */
  params: readonly string[];
  operations: Partial<Record<WireMethod, WireOperation>>;
}

function route(path: string, operations: Partial<Record<WireMethod, WireOperation>>): WireRoute {
  return { path, params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ""), operations };
}

export const ReconcileReply = Envelope.extend({ metadata: z.object({ report: z.object({}).loose().nullable(), tgtd_restarts: z.number() }) });
export const SnsTableReply = Envelope.extend({ metadata: z.object({ sns_table: z.array(z.tuple([z.string(), z.string()])) }) });
const accepted = { "202": AcceptedReply };
const deleteBody = { delete: VolumeDeleteBody };

/** Every error status the server answers, with the codes it carries (the body is an ErrorBody). */
export const ERROR_STATUSES: Record<string, string> = {
  "400": "INVALID_ARGUMENT or UNKNOWN_OPERATION (field names the offending request field)",
  "401": "UNAUTHENTICATED",
  "404": "NOT_FOUND",
  "409": "ALREADY_EXISTS, CONFLICT or BUSY",
  "413": "PAYLOAD_TOO_LARGE",
  "422": "INSUFFICIENT_CAPACITY or UNSUPPORTED",
  "500": "ENGINE_FAILURE or INTERNAL",
  "503": "OVERLOADED (as many jobs run as --max-jobs allows; Retry-After says when to try again)",
};

export const DPL_ROUTES = {
  system: route("/v1/dpl_system/", { get: { summary: "Server information and capabilities", replies: { "200": SystemReply } } }),
  disks: route("/v1/dpl_disk/", { get: { summary: "Block devices pools may be built from (the --allow-block-device list): size, model, rotational, owning pool", replies: { "200": DiskListReply } } }),
  reconcile: route("/v1/dpl_system/reconcile/", {
    get: { summary: "What the last start reconciled: interrupted events, unowned data on disk (kept), exports re-applied", replies: { "200": ReconcileReply } },
  }),
  pools: route("/v1/dpl_pool/", { get: { summary: "List pools as [uuid, name] pairs", replies: { "200": PoolListReply } } }),
  pool: route("/v1/dpl_pool/{pool}/", {
    get: { summary: "Pool detail, or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": PoolReply } },
    put: {
      summary: "Create a pool from image files or allowed block devices (raid5/raid6 need metadata.properties.force_raid56); start its scrub or dedupe (metadata.pool_operation); add, remove or replace devices in place (metadata.device_operation); change its scrub/dedupe schedule (metadata.maintenance_schedule); or change its name, description, compression, over-subscription cap or RAID level in place (metadata.pool_settings; a RAID change is an online balance whose event shows its progress)",
      body: { create: PoolCreateBody, operation: PoolOperationBody, devices: PoolDeviceChangeBody, schedule: PoolScheduleBody, settings: PoolSettingsBody },
      replies: { "201": PoolReply, "200": PoolReply, ...accepted },
    },
    delete: { summary: "Delete a pool (metadata.force deletes its volumes and snapshots too)", body: { delete: PoolDeleteBody }, replies: { "200": EventReply, ...accepted } },
  }),
  poolStats: route("/v1/dpl_pool/{pool}/stats/", {
    get: { summary: "Pool I/O: block I/O of its devices (ops, bytes, time), totals and rates over the last sampling window", replies: { "200": IoStatsReply } },
  }),
  volumeStats: route("/v1/dpl_volume/{volume}/stats/", {
    get: { summary: "Volume I/O: SCSI commands its iSCSI initiators sent (tgtd's per-session counters, summed over sessions), totals and rates", replies: { "200": IoStatsReply } },
  }),
  volumes: route("/v1/dpl_volume/", { get: { summary: "List volumes as [uuid, name] pairs", replies: { "200": VolumeListReply } } }),
  volume: route("/v1/dpl_volume/{volume}/", {
    get: { summary: "Volume detail (exports included), or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": VolumeReply } },
    put: {
      summary: "Multiplexed by body keys: create; modify in place (extend, rename, compression, cache mode, thin/thick, move to another pool with metadata.move_to_pool); snapshot, copy/spawn/clone into this new volume, import an image (top-level image) into this new volume, rollback, export assign/unassign",
      body: {
        create: VolumeCreateBody, import: VolumeFromImageBody, modify: VolumeModifyBody, snapshot: SnapshotCreateBody,
        copy: CopyFromSnapshotBody, spawn: SpawnBody, clone: CloneBody, rollback: RollbackBody,
        assign: ExportAssignBody, unassign: ExportUnassignBody,
      },
      replies: { "200": VolumeReply, "201": VolumeReply, ...accepted },
    },
    delete: { summary: "Delete a volume (metadata.force also removes its export); its snapshots stay", body: deleteBody, replies: { "200": EventReply, ...accepted } },
  }),
  snapshots: route("/v1/dpl_volume/{volume}/cdmi_snapshots/", { get: { summary: "List the volume's snapshots", replies: { "200": SnapshotListReply } } }),
  snapshot: route("/v1/dpl_volume/{volume}/cdmi_snapshots/{snapshot}/", {
    get: { summary: "Snapshot detail", replies: { "200": SnapshotReply } },
    delete: { summary: "Delete a snapshot (poll the parent volume's event)", replies: { "200": EventReply, ...accepted } },
  }),
  volumeGroups: route("/v1/dpl_volgroup/", { get: { summary: "List volume groups", replies: { "200": VolumeListReply } } }),
  volumeGroup: route("/v1/dpl_volgroup/{group}/", {
    get: { summary: "Volume group (children = member volume ids), or an event poll", query: { event_uuid: "event to poll" }, replies: { "200": VolgroupReply } },
    put: {
      summary: "Create, join/leave, or take a group snapshot (top-level snapshot)",
      body: { create: VolgroupCreateBody, membership: VolgroupMembershipBody, snapshot: VolgroupSnapshotBody },
      replies: { "200": VolgroupReply, "201": VolgroupSnapshotReply, ...accepted },
    },
    delete: { summary: "Delete the group (members and their snapshots stay)", body: deleteBody, replies: { "204": null } },
  }),
  groupSnapshots: route("/v1/dpl_volgroup/{group}/cdmi_snapshots/", { get: { summary: "List group snapshots", replies: { "200": SnapshotListReply } } }),
  groupSnapshot: route("/v1/dpl_volgroup/{group}/cdmi_snapshots/{snapshot}/", {
    get: { summary: "Group snapshot with metadata.member {volume: member snapshot}", replies: { "200": VolgroupSnapshotReply } },
    delete: { summary: "Delete a group snapshot and its member snapshots", replies: { "200": EventReply, ...accepted } },
  }),
  images: route("/v1/dpl_image/", { get: { summary: "List image files in the server's image directories, and those directories", replies: { "200": ImageListReply } } }),
  image: route("/v1/dpl_image/{image}/", {
    get: { summary: "Image file detail (format, virtual size, file size, allocated bytes), or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": ImageReply } },
    put: { summary: "Write a volume or one of its snapshots as a raw or qcow2 image file (raw in the pool's own directory is a reflink)", body: { create: ImageCreateBody }, replies: { "201": ImageReply, "200": ImageReply, ...accepted } },
    delete: { summary: "Delete the image file", replies: { "200": EventReply, ...accepted } },
  }),
  imageContent: route("/v1/dpl_image/{image}/content", {
    get: { summary: "The image file's bytes (application/octet-stream); raw images are gzip-coded when Accept-Encoding allows (holes shrink to almost nothing), qcow2 files hold only allocated clusters", replies: { "200": null } },
  }),
  targets: route("/v1/dpl_export/", { get: { summary: "List targets and/or initiators as [uuid, name, address]", query: { type: "target or initiator" }, replies: { "200": TargetListReply } } }),
  snsTable: route("/v1/dpl_export/sns_table/", { put: { summary: "FC name-server query (always empty: no FC engine)", body: { query: SnsTableBody }, replies: { "200": SnsTableReply } } }),
  target: route("/v1/dpl_export/{target}/", {
    get: { summary: "Target detail", replies: { "200": TargetReply } },
    put: { summary: "Create a target record", body: { create: TargetCreateBody }, replies: { "200": TargetReply } },
    delete: { summary: "Delete a target record", replies: { "200": TargetReply } },
  }),
  replications: route("/v1/dpl_replication/", { get: { summary: "List replication relationships (this server as source or target)", replies: { "200": ReplicationListReply } } }),
  replication: route("/v1/dpl_replication/{replication}/", {
    get: { summary: "A replication: role, state, last synced snapshot, lag, bytes sent; or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": ReplicationReply } },
    put: {
      summary: "Create a replication of a volume to another DPL server (on the source); change its settings (metadata.replication_settings); or an operation (metadata.replication_operation): sync now, promote the replica (on the target), reverse the direction (on a promoted target), and the server-to-server steps accept, demote and commit",
      body: { create: ReplicationCreateBody, settings: ReplicationSettingsBody, operation: ReplicationOperationBody },
      replies: { "201": ReplicationReply, "200": ReplicationReply, ...accepted },
    },
    delete: { summary: "End the replication on both servers (as far as the other answers); the volume and the replica stay, the replica writable", replies: { "200": ReplicationReply } },
  }),
  replicationTransfer: route("/v1/dpl_replication/{replication}/transfers/{snapshot}/", {
    get: { summary: "Server to server: the bytes of a transfer this target holds (a resumed upload continues there)", replies: { "200": TransferReply } },
    put: {
      summary: "Server to server: append bytes of a send stream at ?offset= (which must be what the target holds)",
      query: { offset: "byte offset of the body in the stream" },
      bytes: "the send stream's bytes from offset on",
      replies: { "200": TransferReply },
    },
  }),
} as const;

/**
 * A route's URL with its ids filled in, in placeholder order. `v1: false` drops the `/v1` prefix:
 * the protocol's plain volume-group calls have none (dpl-protocol §2.2).
 */
export function pathOf(wireRoute: WireRoute, ids: readonly string[] = [], options: { v1?: boolean } = {}): string {
  if (ids.length !== wireRoute.params.length) throw new Error(`${wireRoute.path} takes ${wireRoute.params.length} id(s), got ${ids.length}`);
  let index = 0;
  const path = wireRoute.path.replace(/\{\w+\}/g, () => ids[index++] ?? "");
  return options.v1 === false ? path.replace(/^\/v1/, "") : path;
}

/** The route as fastify spells it, without `/v1` (the server registers every route with and without the prefix). */
export function fastifyPathOf(wireRoute: WireRoute): string {
  return wireRoute.path.replace(/^\/v1/, "").replace(/\{(\w+)\}/g, ":$1");
}
