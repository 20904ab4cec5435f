import { z } from "zod";
import { Bytes, Description, DisplayName, HexId, Iqn, Portal, PositiveBytes } from "./ids";
import { Compression } from "./pool";
import { Envelope, IdNamePair } from "./envelope";
import { ImageSource } from "./image";

/**
 * `PUT /v1/dpl_volume/<vol>/` is multiplexed: the body's keys select the operation
 * (dpl-protocol.md §2.4). Each operation has its own strict schema below, and
 * `classifyVolumePut` picks one the way the historical client's bodies require.
 */

export const CacheMode = z.enum(["writeback", "writethrough", "direct"]);
export type CacheMode = z.infer<typeof CacheMode>;

export const VolumeProperties = z.object({
  thin_provision: z.boolean().default(true),
  /** Extension: per-volume compression (btrfs property); "none" by default. */
  compression: Compression.optional(),
  /** Extension: how the target caches this volume's I/O. */
  cache_mode: CacheMode.optional(),
}).strict();
export type VolumeProperties = z.infer<typeof VolumeProperties>;

// Cinder may send null names/descriptions; the server substitutes the id for a null name.
const OptionalName = DisplayName.nullable().optional();
const OptionalDescription = Description.nullable().optional();
const MaximumSnapshot = z.number().int().positive().max(65536).optional();
const SnapshotQuota = z.number().int().nonnegative().optional();

/** A snapshot reference as the historical client writes it: `/<anything>/cdmi_snapshots/<snap>`. */
export const SnapshotPath = z
  .string()
  .regex(
    /^(?:\/v1)?(?:\/dpl_volume)?\/[0-9a-f]{32}\/cdmi_snapshots\/[0-9a-f]{32}\/?$/,
    "must be /<volume>/cdmi_snapshots/<snapshot> with 32-hex ids",
  );
export function snapshotPath(volume: string, snapshot: string): string {
  return `/${volume}/cdmi_snapshots/${snapshot}`;
}
/** The snapshot id is the last segment; the volume segment is not trusted (protocol D8). */
export function snapshotIdOfPath(path: string): string {
  const parts = path.split("/").filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? "";
}

export const VolumeCreateBody = z.object({
  metadata: z.object({
    display_name: OptionalName,
    display_description: OptionalDescription,
    pool_uuid: HexId,
    total_capacity: PositiveBytes,
    maximum_snapshot: MaximumSnapshot,
    snapshot_quota: SnapshotQuota,
    properties: VolumeProperties.default({ thin_provision: true }),
  }).strict(),
}).strict();
export type VolumeCreateBody = z.input<typeof VolumeCreateBody>;

/**
 * Extend, rename, and (extension) change compression in place: metadata without pool_uuid.
 * Shrinking is refused by the server. A new compression applies to data written from then on.
 */
export const VolumeModifyBody = z.object({
  metadata: z.object({
    display_name: OptionalName,
    display_description: OptionalDescription,
    total_capacity: PositiveBytes.optional(),
    maximum_snapshot: MaximumSnapshot,
    snapshot_quota: SnapshotQuota,
    properties: z.object({
      compression: Compression.optional(),
      /** tgtd's LUN is re-added with the new flags; sessions stay logged in. */
      cache_mode: CacheMode.optional(),
      /** false allocates every block (keeping the data); true gives zero-filled blocks back. */
      thin_provision: z.boolean().optional(),
    }).strict().optional(),
    /**
     * Moves the volume to another pool (DPL extension): the data is copied, then the volume
     * switches over; its id and export stay. Refused while it has snapshots or iSCSI sessions.
     */
    move_to_pool: HexId.optional(),
  }).strict(),
}).strict();
export type VolumeModifyBody = z.input<typeof VolumeModifyBody>;

export const SnapshotCreateBody = z.object({
  metadata: z.object({
    display_name: OptionalName,
    display_description: OptionalDescription,
  }).strict().optional(),
  snapshot: HexId,
}).strict();
export type SnapshotCreateBody = z.input<typeof SnapshotCreateBody>;

/** Roll this existing volume back to one of its snapshots: `{ "copy": "/<vol>/cdmi_snapshots/<snap>" }`. */
export const RollbackBody = z.object({ copy: SnapshotPath }).strict();
export type RollbackBody = z.input<typeof RollbackBody>;

/** What a volume made from another object may set; pool and size default to the source's. */
const derivedVolumeFields = {
  display_name: OptionalName,
  display_description: OptionalDescription,
  pool_uuid: HexId.optional(),
  total_capacity: PositiveBytes.optional(),
  maximum_snapshot: MaximumSnapshot,
  snapshot_quota: SnapshotQuota,
  properties: VolumeProperties.optional(),
};

/** Create this new volume as a full, independent copy of a snapshot (extension: larger size). */
export const CopyFromSnapshotBody = z.object({
  metadata: z.object({
    snapshot_operation: z.literal("copy"),
    ...derivedVolumeFields,
  }).strict(),
  copy: SnapshotPath,
}).strict();
export type CopyFromSnapshotBody = z.input<typeof CopyFromSnapshotBody>;

/** Create this new volume referencing a snapshot ("spawn"); here it shares blocks like a copy. */
export const SpawnBody = z.object({
  metadata: z.object({
    snapshot_operation: z.literal("spawn"),
    display_name: OptionalName,
    display_description: OptionalDescription,
  }).strict(),
  copy: SnapshotPath,
}).strict();
export type SpawnBody = z.input<typeof SpawnBody>;

/** Create this new volume as a clone of another volume; `copy` is the bare source id. */
export const CloneBody = z.object({
  metadata: z.object({
    snapshot_operation: z.literal("clone"),
    ...derivedVolumeFields,
  }).strict(),
  copy: HexId,
}).strict();
export type CloneBody = z.input<typeof CloneBody>;

/** Create this new volume from an image; `total_capacity` defaults to the image's virtual size (never smaller). */
export const VolumeFromImageBody = z.object({
  metadata: z.object({
    display_name: OptionalName,
    display_description: OptionalDescription,
    pool_uuid: HexId,
    total_capacity: PositiveBytes.optional(),
    maximum_snapshot: MaximumSnapshot,
    snapshot_quota: SnapshotQuota,
    properties: VolumeProperties.optional(),
  }).strict(),
  image: ImageSource,
}).strict();
export type VolumeFromImageBody = z.input<typeof VolumeFromImageBody>;

/** CHAP for a target (extension). Secrets are write-only: replies carry usernames only. */
export const ChapCredentials = z.object({
  username: z.string().min(1).max(255).regex(/^[A-Za-z0-9._@:-]+$/, "must be letters, digits or . _ @ : -").describe("The CHAP user name."),
  secret: z.string().min(12, "must be 12 to 16 characters (RFC 3720 / tgt limits)").max(16, "must be 12 to 16 characters (RFC 3720 / tgt limits)").regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .describe("12 to 16 printable characters; write-only: no reply carries it."),
}).strict();
export type ChapCredentials = z.infer<typeof ChapCredentials>;

export const IscsiAuthentication = z.object({
  chap: ChapCredentials.optional(),
  /** Mutual CHAP: the credentials the target presents to the initiator. */
  mutual_chap: ChapCredentials.optional(),
}).strict();
export type IscsiAuthentication = z.infer<typeof IscsiAuthentication>;

export const IscsiAssign = z.object({
  /** 0 (what the historical client always sends) lets the server choose. */
  logical_unit_number: z.number().int().min(0).max(255).default(0),
  logical_unit_name: z.string().max(255).optional(),
  permissions: z.array(Iqn).min(1, "must list at least one initiator").max(64),
  portals: z.array(Portal).max(16).optional(),
  authentication: IscsiAuthentication.optional(),
}).strict();
export const FcAssign = z.object({
  target_identifier: z.string(),
  logical_unit_number: z.number().int().min(-1).max(255).default(-1),
  logical_unit_name: z.string().max(255).optional(),
  permissions: z.array(z.string()).min(1),
}).strict();

export const ExportAssignBody = z.object({
  metadata: z.object({ export_operation: z.literal("assign") }).strict(),
  exports: z.union([
    z.object({ "Network/iSCSI": IscsiAssign }).strict(),
    z.object({ "Network/FC": FcAssign }).strict(),
  ]),
}).strict();
export type ExportAssignBody = z.input<typeof ExportAssignBody>;

export const ExportUnassignBody = z.object({
  metadata: z.object({ export_operation: z.literal("unassign") }).strict(),
  exports: z.union([
    z.object({
      "Network/iSCSI": z.object({ target_identifier: z.string().default(""), permissions: z.array(Iqn).min(1) }).strict(),
    }).strict(),
    z.object({
      "Network/FC": z.object({ target_identifier: z.string(), permissions: z.array(z.string()).min(1) }).strict(),
    }).strict(),
  ]),
}).strict();
export type ExportUnassignBody = z.input<typeof ExportUnassignBody>;

export type VolumePut =
  | { op: "assign"; schema: typeof ExportAssignBody }
  | { op: "unassign"; schema: typeof ExportUnassignBody }
  | { op: "copy"; schema: typeof CopyFromSnapshotBody }
  | { op: "spawn"; schema: typeof SpawnBody }
  | { op: "clone"; schema: typeof CloneBody }
  | { op: "snapshot"; schema: typeof SnapshotCreateBody }
  | { op: "rollback"; schema: typeof RollbackBody }
  | { op: "import"; schema: typeof VolumeFromImageBody }
  | { op: "create"; schema: typeof VolumeCreateBody }
  | { op: "modify"; schema: typeof VolumeModifyBody };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Chooses the operation a `PUT /v1/dpl_volume/<vol>/` body asks for, in the order that
 * disambiguates the historical client's bodies; `undefined` when no operation matches.
 */
export function classifyVolumePut(body: unknown): VolumePut | undefined {
  if (!isRecord(body)) return undefined;
  const meta = isRecord(body.metadata) ? body.metadata : undefined;
  if (meta?.export_operation === "assign") return { op: "assign", schema: ExportAssignBody };
  if (meta?.export_operation === "unassign") return { op: "unassign", schema: ExportUnassignBody };
  if (meta?.snapshot_operation === "copy") return { op: "copy", schema: CopyFromSnapshotBody };
  if (meta?.snapshot_operation === "spawn") return { op: "spawn", schema: SpawnBody };
  if (meta?.snapshot_operation === "clone") return { op: "clone", schema: CloneBody };
  if ("image" in body) return { op: "import", schema: VolumeFromImageBody };
  if ("snapshot" in body) return { op: "snapshot", schema: SnapshotCreateBody };
  if ("copy" in body && meta === undefined) return { op: "rollback", schema: RollbackBody };
  if (meta !== undefined && "pool_uuid" in meta) return { op: "create", schema: VolumeCreateBody };
  if (meta !== undefined && meta.export_operation === undefined && meta.snapshot_operation === undefined) {
    return { op: "modify", schema: VolumeModifyBody };
  }
  return undefined;
}

/** `DELETE /v1/dpl_volume/<vol>/` may carry `{"metadata":{"force":true}}`. */
export const VolumeDeleteBody = z.object({
  metadata: z.object({ force: z.boolean().optional() }).loose().optional(),
}).loose();

export const VolumeState = z.enum(["creating", "available", "deleting", "error"]);

/** One iSCSI export entry of a volume reply (a list per protocol in replies). */
export const IscsiExportEntry = z.object({
  target_identifier: z.string(),
  portals: z.array(z.string()),
  logical_unit_number: z.number().int(),
  logical_unit_name: z.string(),
  /** `{ "<initiator iqn>": <lun> }` objects: the form that carries a LUN per initiator. */
  permissions: z.array(z.record(z.string(), z.number().int())),
  authentication: z.object({
    method: z.enum(["None", "CHAP"]),
    username: z.string().optional(),
    mutual_username: z.string().optional(),
  }),
});
export type IscsiExportEntry = z.infer<typeof IscsiExportEntry>;

export const VolumeMetadata = z.object({
  type: z.literal("volume"),
  display_name: z.string(),
  display_description: z.string().nullable(),
  pool_uuid: HexId,
  total_capacity: Bytes,
  /** Bytes actually allocated on the pool for this volume. */
  used_capacity: Bytes,
  maximum_snapshot: z.number().int(),
  snapshot_quota: z.number().int(),
  properties: z.object({ thin_provision: z.boolean(), compression: Compression, cache_mode: CacheMode }),
  state: VolumeState,
  /** Where the volume came from: a snapshot id (copy/spawn) or a volume id (clone). */
  origin_uuid: z.string().nullable(),
  /** This server's extension: the image (path or URL, format) the volume was written from, as the request named it. */
  image_source: ImageSource.optional(),
  volume_group_uuid: z.string().nullable(),
  ctime: z.number(),
  mtime: z.number(),
  event_uuid: z.string().optional(),
  /** Uncompressed bytes / bytes on disk of the volume's data (compsize); null when nothing is written. */
  compression_ratio: z.number().nullable().optional(),
});
export type VolumeMetadata = z.infer<typeof VolumeMetadata>;

export const VolumeReply = Envelope.extend({
  metadata: VolumeMetadata,
  children: z.array(z.string()),
  exports: z.object({
    "Network/iSCSI": z.array(IscsiExportEntry).optional(),
    "Network/FC": z.array(z.object({ target_identifier: z.string(), permissions: z.array(z.record(z.string(), z.number())) })).optional(),
  }),
  snapshots: z.array(z.string()),
});
export type VolumeReply = z.infer<typeof VolumeReply>;

/** `GET /v1/dpl_volume/` (extension): `[uuid, name]` pairs. */
export const VolumeListReply = Envelope.extend({ children: z.array(IdNamePair), metadata: z.object({}).loose() });
export type VolumeListReply = z.infer<typeof VolumeListReply>;
