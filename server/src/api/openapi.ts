/**
 * The OpenAPI 3.1 document of the whole API, generated from the wire schemas (zod v4's JSON
 * Schema output), so it cannot drift from what the server parses and answers. Every path is also
 * served without the `/v1` prefix and with or without its trailing slash.
 */
import * as wire from "@prophetstor/dpl-provider/wire";
import { z } from "zod";

interface Operation {
  summary: string;
  /** Request body schemas; several mean "one of" (dispatch by body keys). */
  body?: Record<string, z.ZodType>;
  /** Success status → reply schema (null: no body). */
  replies: Record<string, z.ZodType | null>;
  query?: Record<string, string>;
}

const ReconcileReply = wire.Envelope.extend({ metadata: z.object({ report: z.object({}).loose().nullable(), tgtd_restarts: z.number() }) });
const SnsTableReply = wire.Envelope.extend({ metadata: z.object({ sns_table: z.array(z.tuple([z.string(), z.string()])) }) });
const accepted = { "202": wire.AcceptedReply };
const deleteBody = { delete: wire.VolumeDeleteBody };

const paths: Record<string, Record<string, Operation>> = {
  "/v1/dpl_system/": { get: { summary: "Server information and capabilities", replies: { "200": wire.SystemReply } } },
  "/v1/dpl_disk/": { get: { summary: "Block devices pools may be built from (the --allow-block-device list): size, model, rotational, owning pool", replies: { "200": wire.DiskListReply } } },
  "/v1/dpl_system/reconcile/": {
    get: { summary: "What the last start reconciled: interrupted events, unowned data on disk (kept), exports re-applied", replies: { "200": ReconcileReply } },
  },
  "/v1/dpl_pool/": { get: { summary: "List pools as [uuid, name] pairs", replies: { "200": wire.PoolListReply } } },
  "/v1/dpl_pool/{pool}/": {
    get: { summary: "Pool detail, or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": wire.PoolReply } },
    put: {
      summary: "Create a pool from image files or allowed block devices (raid5/raid6 need metadata.properties.force_raid56); start its scrub or dedupe (metadata.pool_operation); add, remove or replace devices in place (metadata.device_operation); change its scrub/dedupe schedule (metadata.maintenance_schedule); or change its name, description, compression, over-subscription cap or RAID level in place (metadata.pool_settings; a RAID change is an online balance whose event shows its progress)",
      body: { create: wire.PoolCreateBody, operation: wire.PoolOperationBody, devices: wire.PoolDeviceChangeBody, schedule: wire.PoolScheduleBody, settings: wire.PoolSettingsBody },
      replies: { "201": wire.PoolReply, "200": wire.PoolReply, ...accepted },
    },
    delete: { summary: "Delete a pool (metadata.force deletes its volumes and snapshots too)", body: { delete: wire.PoolDeleteBody }, replies: { "200": wire.EventReply, ...accepted } },
  },
  "/v1/dpl_pool/{pool}/stats/": {
    get: { summary: "Pool I/O: block I/O of its devices (ops, bytes, time), totals and rates over the last sampling window", replies: { "200": wire.IoStatsReply } },
  },
  "/v1/dpl_volume/{volume}/stats/": {
    get: { summary: "Volume I/O: SCSI commands its iSCSI initiators sent (tgtd's per-session counters, summed over sessions), totals and rates", replies: { "200": wire.IoStatsReply } },
  },
  "/v1/dpl_volume/": { get: { summary: "List volumes as [uuid, name] pairs", replies: { "200": wire.VolumeListReply } } },
  "/v1/dpl_volume/{volume}/": {
    get: { summary: "Volume detail (exports included), or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": wire.VolumeReply } },
    put: {
      summary: "Multiplexed by body keys: create; modify in place (extend, rename, compression, cache mode, thin/thick, move to another pool with metadata.move_to_pool); snapshot, copy/spawn/clone into this new volume, import an image (top-level image) into this new volume, rollback, export assign/unassign",
      body: {
        create: wire.VolumeCreateBody, import: wire.VolumeFromImageBody, modify: wire.VolumeModifyBody, snapshot: wire.SnapshotCreateBody,
        copy: wire.CopyFromSnapshotBody, spawn: wire.SpawnBody, clone: wire.CloneBody, rollback: wire.RollbackBody,
        assign: wire.ExportAssignBody, unassign: wire.ExportUnassignBody,
      },
      replies: { "200": wire.VolumeReply, "201": wire.VolumeReply, ...accepted },
    },
    delete: { summary: "Delete a volume (metadata.force also removes its export); its snapshots stay", body: deleteBody, replies: { "200": wire.EventReply, ...accepted } },
  },
  "/v1/dpl_volume/{volume}/cdmi_snapshots/": { get: { summary: "List the volume's snapshots", replies: { "200": wire.SnapshotListReply } } },
  "/v1/dpl_volume/{volume}/cdmi_snapshots/{snapshot}/": {
    get: { summary: "Snapshot detail", replies: { "200": wire.SnapshotReply } },
    delete: { summary: "Delete a snapshot (poll the parent volume's event)", replies: { "200": wire.EventReply, ...accepted } },
  },
  "/v1/dpl_volgroup/": { get: { summary: "List volume groups", replies: { "200": wire.VolumeListReply } } },
  "/v1/dpl_volgroup/{group}/": {
    get: { summary: "Volume group (children = member volume ids), or an event poll", query: { event_uuid: "event to poll" }, replies: { "200": wire.VolgroupReply } },
    put: {
      summary: "Create, join/leave, or take a group snapshot (top-level snapshot)",
      body: { create: wire.VolgroupCreateBody, membership: wire.VolgroupMembershipBody, snapshot: wire.VolgroupSnapshotBody },
      replies: { "200": wire.VolgroupReply, "201": wire.VolgroupSnapshotReply, ...accepted },
    },
    delete: { summary: "Delete the group (members and their snapshots stay)", body: deleteBody, replies: { "204": null } },
  },
  "/v1/dpl_volgroup/{group}/cdmi_snapshots/": { get: { summary: "List group snapshots", replies: { "200": wire.SnapshotListReply } } },
  "/v1/dpl_volgroup/{group}/cdmi_snapshots/{snapshot}/": {
    get: { summary: "Group snapshot with metadata.member {volume: member snapshot}", replies: { "200": wire.VolgroupSnapshotReply } },
    delete: { summary: "Delete a group snapshot and its member snapshots", replies: { "200": wire.EventReply, ...accepted } },
  },
  "/v1/dpl_image/": { get: { summary: "List image files in the server's image directories, and those directories", replies: { "200": wire.ImageListReply } } },
  "/v1/dpl_image/{image}/": {
    get: { summary: "Image file detail (format, virtual size, file size, allocated bytes), or an event poll with ?event_uuid=", query: { event_uuid: "event to poll" }, replies: { "200": wire.ImageReply } },
    put: { summary: "Write a volume or one of its snapshots as a raw or qcow2 image file (raw in the pool's own directory is a reflink)", body: { create: wire.ImageCreateBody }, replies: { "201": wire.ImageReply, "200": wire.ImageReply, ...accepted } },
    delete: { summary: "Delete the image file", replies: { "200": wire.EventReply, ...accepted } },
  },
  "/v1/dpl_image/{image}/content": {
    get: { summary: "The image file's bytes (application/octet-stream); raw images are gzip-coded when Accept-Encoding allows (holes shrink to almost nothing), qcow2 files hold only allocated clusters", replies: { "200": null } },
  },
  "/v1/dpl_export/": { get: { summary: "List targets and/or initiators as [uuid, name, address]", query: { type: "target or initiator" }, replies: { "200": wire.TargetListReply } } },
  "/v1/dpl_export/sns_table/": { put: { summary: "FC name-server query (always empty: no FC engine)", body: { query: wire.SnsTableBody }, replies: { "200": SnsTableReply } } },
  "/v1/dpl_export/{target}/": {
    get: { summary: "Target detail", replies: { "200": wire.TargetReply } },
    put: { summary: "Create a target record", body: { create: wire.TargetCreateBody }, replies: { "200": wire.TargetReply } },
    delete: { summary: "Delete a target record", replies: { "200": wire.TargetReply } },
  },
};

function schemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const errorStatuses: Record<string, string> = {
  "400": "INVALID_ARGUMENT or UNKNOWN_OPERATION (field names the offending request field)",
  "401": "UNAUTHENTICATED",
  "404": "NOT_FOUND",
  "409": "ALREADY_EXISTS, CONFLICT or BUSY",
  "413": "PAYLOAD_TOO_LARGE",
  "422": "INSUFFICIENT_CAPACITY or UNSUPPORTED",
  "500": "ENGINE_FAILURE or INTERNAL",
  "503": "OVERLOADED (as many jobs run as --max-jobs allows; Retry-After says when to try again)",
};

/** Schemas get component names: their wire export names, or the local names above. */
function schemaNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>([[ReconcileReply, "ReconcileReply"], [SnsTableReply, "SnsTableReply"]]);
  for (const [name, value] of Object.entries(wire)) {
    if (value instanceof z.ZodType && !names.has(value)) names.set(value, name);
  }
  return names;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const names = schemaNames();
  const components: Record<string, unknown> = {};
  const ref = (schema: z.ZodType, io: "input" | "output"): Record<string, unknown> => {
    const base = names.get(schema) ?? `Schema${names.size}`;
    names.set(schema, base);
    const name = io === "input" ? base : base.endsWith("Body") ? `${base}Output` : base;
    components[name] ??= schemaOf(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  const errorSchema = ref(wire.ErrorBody, "output");
  const mediaTypes = (schema: Record<string, unknown>): Record<string, unknown> => ({
    [wire.CDMI_CONTAINER]: { schema },
    "application/json": { schema },
  });
  const outPaths: Record<string, unknown> = {};
  for (const [path, methods] of Object.entries(paths)) {
    const parameters = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1], in: "path", required: true, schema: { type: "string", pattern: "^[0-9a-f]{32}$" },
    }));
    const ops: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(methods)) {
      const responses: Record<string, unknown> = {};
      for (const [status, schema] of Object.entries(op.replies)) {
        responses[status] = schema === null
          ? status === "200"
            ? { description: "Bytes", content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } }
            : { description: "No content" }
          : { description: status === "202" ? "Accepted: poll with ?event_uuid= (or send Prefer: wait=N)" : "OK", content: mediaTypes(ref(schema, "output")) };
      }
      for (const [status, description] of Object.entries(errorStatuses)) {
        responses[status] = { description, content: mediaTypes(errorSchema) };
      }
      const bodies = Object.values(op.body ?? {}).map((s) => ref(s, "input"));
      const body = bodies.length === 0 ? undefined : bodies.length === 1 ? bodies[0] : { oneOf: bodies };
      ops[method] = {
        summary: op.summary,
        operationId: `${method}${path.replace(/\/v1/, "").replace(/[{}]/g, "").split("/").filter(Boolean).map((s) => `${s.slice(0, 1).toUpperCase()}${s.slice(1)}`).join("")}`,
        parameters: [
          ...parameters,
          ...Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: "query", required: false, description, schema: { type: "string" } })),
          { name: "Prefer", in: "header", required: false, description: "RFC 7240 wait=N: hold up to N s for completion", schema: { type: "string" } },
        ],
        ...(body === undefined ? {} : { requestBody: { required: method !== "delete", content: mediaTypes(body) } }),
        responses,
      };
    }
    outPaths[path] = ops;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "DPL v1 (open DPL server)",
      version: "1.0.0",
      description: [
        "ProphetStor DPL v1 REST protocol as served by @prophetstor/dpl-server. Every path also answers without /v1 and with or without its trailing slash. Bodies are JSON sent as application/cdmi-container or application/json (DELETE may carry one). HTTP Basic auth on every route.",
        "Mutating volume, snapshot, pool and group-snapshot calls answer 202 with metadata.event_uuid; poll GET <object>/?event_uuid=. With `Prefer: wait=N` (RFC 7240) the call holds up to N s and answers 200/201 with the final object (or the error); an event poll with it long-polls. Finished events stay queryable; events cut short by a server restart end as Error (\"interrupted by server restart\").",
        "Creating an id that exists with the same specification is idempotent (200 with the existing object); a different specification is 409 ALREADY_EXISTS. Volumes never shrink. Deleting a volume keeps its snapshots (independent btrfs subvolumes): they stay listed under the deleted volume's path and can still be copied from or deleted, so deletes succeed in any order. Deleting an exported volume needs metadata.force (which removes the export). Deleting what is gone is 404.",
        "Exports: one iSCSI target per volume, IQN iqn.2025-01.org.opendpl:<volume id>, the volume as LUN 1 (LUN 0 is tgtd's controller); assign adds lower-cased initiators, unassign matches case-insensitively and answers 404 when none is assigned; the last unassign removes the target. CHAP secrets are write-only. There is no FC engine: FC requests answer 422 UNSUPPORTED.",
        "Errors: {error:{code,message,field?}}; 400 INVALID_ARGUMENT/UNKNOWN_OPERATION, 401 UNAUTHENTICATED, 404 NOT_FOUND, 409 ALREADY_EXISTS/CONFLICT/BUSY, 413 PAYLOAD_TOO_LARGE, 422 INSUFFICIENT_CAPACITY/UNSUPPORTED, 500 ENGINE_FAILURE/INTERNAL, 503 OVERLOADED (with Retry-After).",
      ].join("\n\n"),
    },
    security: [{ basic: [] }],
    paths: outPaths,
    components: { securitySchemes: { basic: { type: "http", scheme: "basic" } }, schemas: components },
  };
}
