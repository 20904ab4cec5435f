import { z } from "zod";
import { Bytes, Description, DisplayName, HexId, PositiveBytes } from "./ids";
import { Envelope, IdNamePair } from "./envelope";

export const RaidLevel = z.enum(["single", "raid0", "raid1", "raid10", "raid1c3", "raid5", "raid6"]);
export type RaidLevel = z.infer<typeof RaidLevel>;

/** The fewest devices each profile can be made on (btrfs's own minimums). */
export const RAID_MIN_DEVICES: Record<RaidLevel, number> = { single: 1, raid0: 1, raid1: 2, raid10: 4, raid1c3: 3, raid5: 2, raid6: 3 };

/**
 * btrfs raid5/raid6 keep a write hole (a crash mid-stripe can leave parity that no longer matches
 * its data, found only by a later read or scrub) and scrub them slowly: a pool gets them only
 * when the request says so explicitly.
 */
export const UNSAFE_RAID_LEVELS: readonly RaidLevel[] = ["raid5", "raid6"];
export const isUnsafeRaidLevel = (raid: RaidLevel): boolean => UNSAFE_RAID_LEVELS.includes(raid);

/** "none", "lzo", "zstd" or "zstd:<1..15>" (btrfs's compress mount option vocabulary). */
export const Compression = z
  .string()
  .regex(/^(none|lzo|zstd|zstd:([1-9]|1[0-5]))$/, "must be none, lzo, zstd or zstd:<1-15>");
export type Compression = z.infer<typeof Compression>;

export const PoolState = z.enum(["Online", "Degraded", "Offline"]);

/**
 * Pool creation is not part of the historical client; designed here in the same style:
 * `PUT /v1/dpl_pool/<pool>/` with the devices to build it from. Image files live under the
 * server's state directory (a client never names a host path for them); block devices must be
 * on the server's allow-list.
 */
export const PoolDevice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("image_file"), size: PositiveBytes.min(128 * 2 ** 20, "must be at least 128 MiB (btrfs minimum)") }).strict(),
  z.object({ type: z.literal("block_device"), path: z.string().regex(/^\/dev\/[A-Za-z0-9/_.-]+$/, "must be a /dev path").refine((p) => !p.includes(".."), "must not contain '..'") }).strict(),
]);
export type PoolDevice = z.infer<typeof PoolDevice>;

/** Scheduled maintenance runs at most this often (a full scrub or dedupe pass is heavy I/O). */
export const MIN_MAINTENANCE_INTERVAL_SECONDS = 10;
const MaintenanceInterval = z
  .number()
  .int("must be whole seconds")
  .min(MIN_MAINTENANCE_INTERVAL_SECONDS, `must be at least ${MIN_MAINTENANCE_INTERVAL_SECONDS} seconds`)
  .max(10 * 366 * 86400, "must be at most ten years");

/**
 * How often the server itself scrubs / dedupes a pool: each run is due one interval after the
 * previous run finished (or after the interval was set). null or absent: not scheduled.
 */
export const MaintenanceSchedule = z.object({
  scrub_every_seconds: MaintenanceInterval.nullable().optional(),
  dedupe_every_seconds: MaintenanceInterval.nullable().optional(),
}).strict();
export type MaintenanceSchedule = z.infer<typeof MaintenanceSchedule>;

/**
 * Where a pool keeps its data: "btrfs" (default) on this server's own devices, or "rbd" as images in
 * a pool of a Ceph cluster (the cluster keeps the copies; several servers may share it).
 */
export const PoolBackend = z.enum(["btrfs", "rbd"]);
export type PoolBackend = z.infer<typeof PoolBackend>;

const AbsoluteFilePath = z.string().max(4096).regex(/^\/[^\0]*$/, "must be an absolute path").refine((p) => !p.split("/").includes(".."), "must not contain '..'");
/** Ceph's names for clients and pools: letters, digits and . _ - (what `rbd` and tgtd's backing-store string can carry). */
const CephName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "must be 1-100 letters, digits and . _ - (starting with a letter or digit)");

/**
 * How the server reaches the Ceph cluster of an "rbd" pool. Both files must be on the server's
 * allow-list (`--allow-ceph-file`): a client names them, never an arbitrary host path.
 */
export const CephConnection = z.object({
  /** ceph.conf of the cluster (its monitors). */
  config_path: AbsoluteFilePath,
  /** Keyring of `client_id`, with rbd caps on `rbd_pool`. */
  keyring_path: AbsoluteFilePath,
  /** The cephx user without "client.", e.g. "dpl". */
  client_id: CephName.default("admin"),
  /** The RBD pool the images go to; it must exist (`ceph osd pool create`, `rbd pool init`). */
  rbd_pool: CephName,
}).strict();
export type CephConnection = z.infer<typeof CephConnection>;

export const PoolCreateBody = z.object({
  metadata: z.object({
    backend: PoolBackend.default("btrfs"),
    /** Required with backend "rbd", refused otherwise. */
    ceph: CephConnection.optional(),
    display_name: DisplayName,
    display_description: Description.nullable().optional(),
    properties: z.object({
      raid_level: RaidLevel.default("single"),
      compression: Compression.default("none"),
      /** Thin over-subscription cap: provisioned may reach this multiple of usable capacity. */
      max_oversubscription: z.number().positive().max(1000).optional(),
      /** Required (true) for raid5 and raid6, whose caveats (write hole, scrub) the caller accepts. */
      force_raid56: z.boolean().optional(),
    }).strict(),
    /** The btrfs backend's devices (at least one); an "rbd" pool names none. */
    devices: z.array(PoolDevice).max(16, "must name at most 16 devices").default([]),
    maintenance_schedule: MaintenanceSchedule.optional(),
  }).strict().superRefine((m, ctx) => {
    const issue = (path: string[], message: string): void => {
      ctx.addIssue({ code: "custom", path, message });
    };
    if (m.backend === "btrfs") {
      if (m.devices.length === 0) issue(["devices"], "must name at least one device");
      if (m.ceph !== undefined) issue(["ceph"], "is only for backend \"rbd\"");
      return;
    }
    if (m.ceph === undefined) issue(["ceph"], "is required with backend \"rbd\" (config_path, keyring_path, rbd_pool)");
    if (m.devices.length > 0) issue(["devices"], "must be empty with backend \"rbd\": the Ceph cluster holds the data");
    if (m.properties.raid_level !== "single") issue(["properties", "raid_level"], "must be single with backend \"rbd\": the Ceph pool's size sets how many copies are kept");
    if (m.properties.compression !== "none") issue(["properties", "compression"], "must be none with backend \"rbd\": compression is the Ceph pool's setting");
  }),
}).strict();
export type PoolCreateBody = z.infer<typeof PoolCreateBody>;

/**
 * Pool maintenance (not in the historical client; designed in its multiplexed-PUT style):
 * `PUT /v1/dpl_pool/<pool>/` with `{"metadata":{"pool_operation":"scrub"|"dedupe"}}` starts a
 * job (202 + event_uuid, polled with `?event_uuid=`, percentComplete moving); its result is then
 * part of the pool reply (`metadata.last_scrub`, `metadata.last_dedupe`).
 */
export const PoolOperation = z.enum(["scrub", "dedupe"]);
export type PoolOperation = z.infer<typeof PoolOperation>;
export const PoolOperationBody = z.object({
  metadata: z.object({ pool_operation: PoolOperation }).strict(),
}).strict();
export type PoolOperationBody = z.infer<typeof PoolOperationBody>;

/**
 * Device changes of an existing pool, in place (not in the historical client; same multiplexed
 * PUT): `{"metadata":{"device_operation":"add","devices":[...]}}` adds devices,
 * `"remove"` with `device_uuids` removes them (their data moves to the others first), `"replace"`
 * with `device_uuid` and `device` copies one device onto a new one (a missing device is rebuilt
 * from the pool's redundancy). Each answers 202 + event_uuid; the final reply is the pool.
 */
export const PoolDeviceChangeBody = z.object({
  metadata: z.discriminatedUnion("device_operation", [
    z.object({
      device_operation: z.literal("add"),
      devices: z.array(PoolDevice).min(1, "must name at least one device").max(16, "must name at most 16 devices"),
    }).strict(),
    z.object({
      device_operation: z.literal("remove"),
      device_uuids: z.array(z.string().min(1)).min(1, "must name at least one device").max(16, "must name at most 16 devices"),
    }).strict(),
    z.object({
      device_operation: z.literal("replace"),
      device_uuid: z.string().min(1),
      device: PoolDevice,
    }).strict(),
  ]),
}).strict();
export type PoolDeviceChangeBody = z.infer<typeof PoolDeviceChangeBody>;
export type PoolDeviceChange = PoolDeviceChangeBody["metadata"];

/**
 * Changes a pool's maintenance schedule (same multiplexed PUT):
 * `{"metadata":{"maintenance_schedule":{"scrub_every_seconds":604800,"dedupe_every_seconds":null}}}`.
 * A key given as null turns that operation's schedule off; an absent key leaves it as it is. A
 * quick job: with `Prefer: wait` the reply is the pool showing the new schedule.
 */
export const PoolScheduleBody = z.object({
  metadata: z.object({ maintenance_schedule: MaintenanceSchedule }).strict(),
}).strict();
export type PoolScheduleBody = z.infer<typeof PoolScheduleBody>;

/**
 * Changes a pool's settings in place (same multiplexed PUT):
 * `{"metadata":{"pool_settings":{"display_name":"fast","compression":"zstd"}}}`. Each key given is
 * set, an absent key is left as it is; null clears the description or the over-subscription cap.
 * A new compression applies to data written from then on (a remount); what is stored keeps the
 * compression it was written with. The final reply is the pool.
 */
export const PoolSettings = z.object({
  display_name: DisplayName.optional(),
  display_description: Description.nullable().optional(),
  compression: Compression.optional(),
  max_oversubscription: z.number().positive().max(1000).nullable().optional(),
  /**
   * Converts the pool's data and metadata to this profile online (a btrfs balance with convert
   * filters; the event's percentComplete follows it). Refused when the pool has too few devices
   * or its stored data would not fit the new profile.
   */
  raid_level: RaidLevel.optional(),
  /** Needed with raid_level raid5 or raid6, as at create. */
  force_raid56: z.boolean().optional(),
}).strict().refine((settings) => Object.keys(settings).length > 0, "must name at least one setting");
export type PoolSettings = z.infer<typeof PoolSettings>;
export const PoolSettingsBody = z.object({
  metadata: z.object({ pool_settings: PoolSettings }).strict(),
}).strict();
export type PoolSettingsBody = z.infer<typeof PoolSettingsBody>;

export type PoolPut =
  | { op: "create"; schema: typeof PoolCreateBody }
  | { op: "settings"; schema: typeof PoolSettingsBody }
  | { op: "schedule"; schema: typeof PoolScheduleBody }
  | { op: "operation"; schema: typeof PoolOperationBody }
  | { op: "devices"; schema: typeof PoolDeviceChangeBody };

/**
 * A body naming `metadata.pool_operation` asks for maintenance, one naming
 * `metadata.device_operation` changes devices, one naming `metadata.pool_settings` changes
 * settings, one naming `metadata.maintenance_schedule` without
 * `devices` changes the schedule; anything else is a create (which may carry a schedule too).
 */
export function classifyPoolPut(body: unknown): PoolPut {
  const meta = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).metadata : undefined;
  const has = (key: string): boolean => typeof meta === "object" && meta !== null && key in meta;
  if (has("pool_operation")) return { op: "operation", schema: PoolOperationBody };
  if (has("device_operation")) return { op: "devices", schema: PoolDeviceChangeBody };
  if (has("pool_settings")) return { op: "settings", schema: PoolSettingsBody };
  if (has("maintenance_schedule") && !has("devices") && !has("display_name")) return { op: "schedule", schema: PoolScheduleBody };
  return { op: "create", schema: PoolCreateBody };
}

/** What the last scrub found and did (btrfs scrub's raw counters, summed over devices). */
export const ScrubResult = z.object({
  started: z.number(),
  finished: z.number(),
  bytes_scrubbed: Bytes,
  /** Checksum, read, verify and superblock errors found. */
  errors_found: z.number().int().nonnegative(),
  csum_errors: z.number().int().nonnegative(),
  read_errors: z.number().int().nonnegative(),
  /** Repaired from a good copy (a mirror or DUP metadata). */
  corrected_errors: z.number().int().nonnegative(),
  /** No good copy existed: those blocks read as errors (EIO), never as wrong data. */
  uncorrectable_errors: z.number().int().nonnegative(),
});
export type ScrubResult = z.infer<typeof ScrubResult>;

/** What the last dedupe saved: data bytes the pool used before and after it. */
export const DedupeResult = z.object({
  started: z.number(),
  finished: z.number(),
  used_bytes_before: Bytes,
  used_bytes_after: Bytes,
  bytes_saved: z.number().int(),
  files_scanned: z.number().int().nonnegative(),
});
export type DedupeResult = z.infer<typeof DedupeResult>;

export const PoolDeleteBody = z.object({
  metadata: z.object({ force: z.boolean().optional() }).loose().optional(),
}).loose();

export const PoolDeviceInfo = z.object({
  device_uuid: z.string(),
  type: z.enum(["image_file", "block_device"]),
  path: z.string(),
  size: Bytes,
  state: z.string(),
  errors: z.object({ read: z.number(), write: z.number(), flush: z.number(), corruption: z.number(), generation: z.number() }),
});

export const PoolMetadata = z.object({
  pool_uuid: HexId,
  display_name: z.string(),
  display_description: z.string().nullable(),
  /** Usable bytes after redundancy. */
  total_capacity: Bytes,
  available_capacity: Bytes,
  used_capacity: Bytes,
  /** Sum of the logical sizes of all volumes (thin volumes count in full). */
  provisioned_capacity: Bytes,
  max_oversubscription: z.number().nullable(),
  state: PoolState,
  properties: z.object({ raid_level: RaidLevel, compression: Compression }),
  /** Absent from servers that only have btrfs. */
  backend: PoolBackend.optional(),
  ceph: CephConnection.nullable().optional(),
  physical_device: z.object({
    data: z.array(z.string()),
    cache: z.array(z.string()),
    log: z.array(z.string()),
    spare: z.array(z.string()),
  }),
  devices: z.array(PoolDeviceInfo),
  vendor: z.string(),
  version: z.string(),
  ctime: z.number(),
  event_uuid: z.string().optional(),
  /** Uncompressed bytes / bytes on disk of the pool's volume data (compsize); null when unknown. */
  compression_ratio: z.number().nullable().optional(),
  last_scrub: ScrubResult.nullable().optional(),
  last_dedupe: DedupeResult.nullable().optional(),
  /** The server's own scrub / dedupe schedule (null: that operation is not scheduled). */
  maintenance_schedule: z.object({
    scrub_every_seconds: z.number().int().nullable(),
    dedupe_every_seconds: z.number().int().nullable(),
  }).optional(),
  /** When the scheduler starts the next run (ms since the epoch); null when not scheduled. */
  next_scrub_at: z.number().nullable().optional(),
  next_dedupe_at: z.number().nullable().optional(),
});
export type PoolMetadata = z.infer<typeof PoolMetadata>;

/** `GET /v1/dpl_pool/<pool>/` */
export const PoolReply = Envelope.extend({ metadata: PoolMetadata, children: z.array(z.string()) });
export type PoolReply = z.infer<typeof PoolReply>;

/** `GET /v1/dpl_pool/` */
export const PoolListReply = Envelope.extend({ children: z.array(IdNamePair), metadata: z.object({}).loose() });
export type PoolListReply = z.infer<typeof PoolListReply>;
