import { z } from "zod";
import { withClient } from "../config/open-client";
import {
  Compression, Description, DisplayName, PoolBackend, isUnsafeRaidLevel, MIN_MAINTENANCE_INTERVAL_SECONDS, PositiveBytes, RAID_MIN_DEVICES, RaidLevel,
  type MaintenanceSchedule, type PoolDevice, type PoolReply, type PoolSettings,
} from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { PoolSpec } from "../client/specs";
import type { CheckFailure, CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { isImport } from "./import-inputs";
import { containsUnknown, differs, parseInputs, pick, withInputs } from "./input-validation";
import { AdoptInput, named, ObjectIdInput, OperationTimeoutInput } from "./lifecycle-inputs";
import { planDeviceChanges, sameDevices } from "./pool-devices";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace } from "./resource-definition";
import { compressionAlgorithm, requireSupported, serverCapabilities } from "./server-capabilities";
import { GIB, SizeGib } from "./size-inputs";

/** A device: an image file the server makes in its state dir (by size), or a block device path. */
const PoolDeviceInput = named(z
  .object({
    sizeBytes: PositiveBytes.optional().describe("Size of an image file in bytes (at least 128 MiB)."),
    sizeGib: SizeGib.optional().describe("Size of an image file in GiB (the server creates it under its state directory; at least 0.125)."),
    path: z.string().optional().describe("A block device path on the server, e.g. \"/dev/sdb\" (must be on the server's allow-list)."),
  })
  .strict()
  .refine((d) => [d.sizeBytes, d.sizeGib, d.path].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of sizeGib, sizeBytes (an image file) or path (a block device)",
  }), "PoolDeviceArgs", "One device of a pool: an image file the server makes (by size) or a block device on the server.");

const CephConnectionInput = named(z
  .object({
    configPath: z.string().describe("ceph.conf of the cluster on the DPL server (it names the monitors and, for tgtd's rbd store, the client's keyring)."),
    keyringPath: z.string().describe("Keyring of the cephx user on the DPL server, with rbd caps on the RBD pool."),
    clientId: z.string().optional().describe("The cephx user without \"client.\" (default \"admin\")."),
    rbdPool: z.string().describe("The Ceph pool the volumes' RBD images go to (it must exist and be initialised with `rbd pool init`)."),
  })
  .strict(), "CephConnectionArgs", "How the DPL server reaches the Ceph cluster of an rbd pool; both files must be on the server's --allow-ceph-file list.");

/** The inputs a pool's backend fixes: a pool never moves between backends or Ceph pools. */
const FIXED_AT_CREATION = ["backend", "ceph"] as const;

/** Hours between scheduled runs (fractions allowed); sent to the server as whole seconds. */
const IntervalHours = z
  .number()
  .positive("must be positive")
  .max(10 * 366 * 24, "must be at most ten years")
  .refine((hours) => Math.round(hours * 3600) >= MIN_MAINTENANCE_INTERVAL_SECONDS,
    `must be at least ${MIN_MAINTENANCE_INTERVAL_SECONDS} seconds (${(MIN_MAINTENANCE_INTERVAL_SECONDS / 3600).toFixed(4)} hours)`);

/**
 * Labels for people and policies (e.g. `environment: production`, read by the dpl-guardrails
 * policy pack). The DPL v1 pool has no tag field, so they live in the Pulumi state only.
 */
const TAG_KEY = /^[\w.:/=+@-]{1,128}$/;
// Keys are checked in one refinement rather than as the record's key schema: zod reports a bad
// record key only as "Invalid key in record", and the user needs to see which key and why.
const PoolTags = z
  .record(z.string(), z.string().max(256, "tag values must be at most 256 characters"))
  .superRefine((tags, ctx) => {
    const keys = Object.keys(tags);
    if (keys.length > 50) ctx.addIssue({ code: "custom", message: "must hold at most 50 tags" });
    for (const key of keys.filter((k) => !TAG_KEY.test(k))) {
      ctx.addIssue({ code: "custom", path: [key], message: `key "${key}" must be 1-128 letters, digits and _ . : / = + @ -` });
    }
  });

export const PoolFields = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  name: DisplayName.describe("Display name, unique on the server. Changing it renames the pool in place."),
  description: Description.optional().describe("Free-text description (changed in place)."),
  backend: PoolBackend.optional().describe(
    "\"btrfs\" (default): the pool is btrfs on the server's own devices. \"rbd\": the volumes are RBD images in a Ceph pool (`ceph` says which), "
    + "so the Ceph cluster holds the data and its copies; no devices, RAID level, compression or scrub/dedupe schedule then. Fixed at creation: "
    + "a change fails at preview (a pool never moves between backends, and is never replaced).",
  ),
  ceph: CephConnectionInput.optional().describe("Required with backend \"rbd\". Fixed at creation like `backend` (a change fails at preview)."),
  devices: z.array(PoolDeviceInput).min(1, "must name at least one device").max(16, "must name at most 16 devices").optional().describe(
    "The devices of a btrfs pool (1..16). Required unless adopting or with backend \"rbd\". Changing them is an in-place update (the pool and its volumes stay): "
    + "a device no longer named is replaced by a newly named one (`btrfs replace`; a missing device is rebuilt from the pool's redundancy), "
    + "other new devices are added, other dropped ones removed after their data moved to the rest. Devices are matched by what they are "
    + "(size or path), not by position. The server refuses a removal that would leave too few devices for the RAID level or too little room for the data.",
  ),
  raidLevel: RaidLevel.optional().describe(
    "\"single\" (default), \"raid0\" (striping), \"raid1\" (mirroring), \"raid10\", \"raid1c3\", or the parity levels \"raid5\" and \"raid6\", "
    + "which need `allowUnsafeRaid56`. Changing it converts the pool in place (an online balance); preview fails when the declared devices cannot hold the profile.",
  ),
  compression: Compression.optional().describe(
    "\"none\" (default), \"lzo\", \"zstd\" or \"zstd:<1-15>\". Changed in place: data written from then on is stored with the new setting, "
    + "data already stored keeps the compression it was written with.",
  ),
  maxOversubscription: z.number().positive().max(1000).optional().describe(
    "Thin over-subscription cap: provisioned bytes may reach this multiple of usable capacity. Changed in place; the server refuses a cap below what is already provisioned.",
  ),
  // raid5/raid6 only with this set: btrfs parity RAID has a write hole and scrubs slowly.
  allowUnsafeRaid56: z.boolean().optional().describe(
    "Must be true for raid5 or raid6. btrfs parity RAID is not considered stable: a crash or power loss in the middle of a stripe write can "
    + "leave parity that no longer matches its data (the \"write hole\"), and a device lost later then rebuilds those blocks wrong; scrub is much "
    + "slower than on mirrors and is the only way to find such stripes. Metadata is kept on raid1 (raid5) or raid1c3 (raid6). Prefer "
    + "raid1/raid10/raid1c3 for data you cannot restore.",
  ),
  forceDestroy: z.boolean().optional().describe("Delete the pool on destroy even when volumes remain in it."),
  scrubIntervalHours: IntervalHours.optional().describe(
    "The server scrubs the pool on its own this many hours (fractions allowed, at least 10 seconds) after the last scrub finished; absent: only "
    + "on demand (`dpl pool scrub`). Changing it is an in-place update; the first run is due one interval after it was set.",
  ),
  dedupeIntervalHours: IntervalHours.optional().describe("The same for dedupe (sharing identical blocks between volumes and snapshots)."),
  operationTimeoutSeconds: OperationTimeoutInput,
  tags: PoolTags.optional().describe(
    "Labels for people and policies, e.g. `{ environment: \"production\" }` (the dpl-guardrails policy pack requires redundancy on production "
    + "pools). Kept in the Pulumi state (DPL v1 pools have no tags); changing them is an in-place update that touches nothing on the server.",
  ),
});

export const PoolInputs = PoolFields
  .refine((p) => p.adopt !== undefined || p.backend === "rbd" || p.devices !== undefined, { path: ["devices"], message: "is required unless adopting an existing pool" })
  .superRefine((p, ctx) => {
    if (p.backend !== "rbd") {
      if (p.ceph !== undefined) ctx.addIssue({ code: "custom", path: ["ceph"], message: "is only for backend \"rbd\"" });
      return;
    }
    const refuse = (key: string, why: string): void => {
      ctx.addIssue({ code: "custom", path: [key], message: `must be absent with backend "rbd": ${why}` });
    };
    if (p.ceph === undefined && p.adopt === undefined) ctx.addIssue({ code: "custom", path: ["ceph"], message: "is required with backend \"rbd\"" });
    if (p.devices !== undefined) refuse("devices", "the Ceph cluster's OSDs hold the data");
    if (p.raidLevel !== undefined && p.raidLevel !== "single") refuse("raidLevel", "the Ceph pool's size sets how many copies are kept");
    if (p.compression !== undefined && p.compression !== "none") refuse("compression", "compression is the Ceph pool's setting");
    if (p.scrubIntervalHours !== undefined) refuse("scrubIntervalHours", "Ceph scrubs its placement groups itself");
    if (p.dedupeIntervalHours !== undefined) refuse("dedupeIntervalHours", "rbd pools have no dedupe");
  })
  .refine((p) => p.raidLevel === undefined || !isUnsafeRaidLevel(p.raidLevel) || p.allowUnsafeRaid56 === true, {
    path: ["allowUnsafeRaid56"],
    message: "must be true to use raid5 or raid6 (btrfs parity RAID: a crash can leave stripes whose parity no longer matches — the write hole — and scrub is slow; see docs/OPERATIONS.md)",
  });
export type PoolInputs = z.output<typeof PoolInputs>;

const INPUT_KEYS = Object.keys(PoolFields.shape);
const SCHEDULE_KEYS = ["scrubIntervalHours", "dedupeIntervalHours"] as const;

const singleByDefault = (v: unknown): unknown => v ?? "single";

/** The settings change the new inputs ask for: only what differs; a removed input goes back to its default. */
function settingsChange(olds: PropertyBag, inputs: PoolInputs): PoolSettings | undefined {
  const change: PoolSettings = {
    ...(differs(olds, inputs, "name") ? { display_name: inputs.name } : {}),
    ...(differs(olds, inputs, "description") ? { display_description: inputs.description ?? null } : {}),
    ...(differs(olds, inputs, "compression") ? { compression: inputs.compression ?? "none" } : {}),
    ...(differs(olds, inputs, "maxOversubscription") ? { max_oversubscription: inputs.maxOversubscription ?? null } : {}),
    ...(differs(olds, inputs, "raidLevel", singleByDefault)
      ? { raid_level: inputs.raidLevel ?? "single", ...(inputs.allowUnsafeRaid56 === true ? { force_raid56: true } : {}) }
      : {}),
  };
  return Object.keys(change).length === 0 ? undefined : change;
}

const secondsOf = (hours: number | undefined): number | null => (hours === undefined ? null : Math.round(hours * 3600));

/** The schedule the inputs ask for (an absent interval turns that operation's schedule off). */
export function wireSchedule(inputs: Pick<PoolInputs, "scrubIntervalHours" | "dedupeIntervalHours">): Required<MaintenanceSchedule> {
  return { scrub_every_seconds: secondsOf(inputs.scrubIntervalHours), dedupe_every_seconds: secondsOf(inputs.dedupeIntervalHours) };
}

/** True when the server's schedule is not what the inputs ask for. */
function scheduleDiffers(reply: PoolReply, inputs: PoolInputs): boolean {
  const wanted = wireSchedule(inputs);
  const current = reply.metadata.maintenance_schedule ?? { scrub_every_seconds: null, dedupe_every_seconds: null };
  return wanted.scrub_every_seconds !== current.scrub_every_seconds || wanted.dedupe_every_seconds !== current.dedupe_every_seconds;
}

/**
 * Refresh takes the server's schedule into the inputs (so a change made elsewhere shows as drift),
 * keeping the program's own figure where it rounds to the same seconds.
 */
function scheduleInputsFrom(reply: PoolReply, inputs: PropertyBag): PropertyBag {
  const schedule = reply.metadata.maintenance_schedule;
  if (schedule === undefined) return inputs;
  const hoursFor = (key: (typeof SCHEDULE_KEYS)[number], seconds: number | null): number | undefined => {
    const current = typeof inputs[key] === "number" ? inputs[key] : undefined;
    if (secondsOf(current) === seconds) return current;
    return seconds === null ? undefined : seconds / 3600;
  };
  const { scrubIntervalHours: _scrub, dedupeIntervalHours: _dedupe, ...rest } = inputs;
  const scrubIntervalHours = hoursFor("scrubIntervalHours", schedule.scrub_every_seconds);
  const dedupeIntervalHours = hoursFor("dedupeIntervalHours", schedule.dedupe_every_seconds);
  return {
    ...rest,
    ...(scrubIntervalHours === undefined ? {} : { scrubIntervalHours }),
    ...(dedupeIntervalHours === undefined ? {} : { dedupeIntervalHours }),
  };
}

/** A profile the declared devices cannot hold fails at preview, before any balance starts. */
function tooFewDevices(inputs: PoolInputs): string | undefined {
  const raid = inputs.raidLevel ?? "single";
  const devices = inputs.devices?.length;
  if (devices === undefined || devices >= RAID_MIN_DEVICES[raid]) return undefined;
  return `${raid} needs at least ${RAID_MIN_DEVICES[raid]} devices; the pool declares ${devices}`;
}

/** The devices as the wire names them; undefined while any is unknown or invalid. */
function wireDevicesOf(value: unknown): PoolDevice[] | undefined {
  if (containsUnknown(value)) return undefined;
  const parsed = z.array(PoolDeviceInput).safeParse(value ?? []);
  return parsed.success ? parsed.data.map(wireDevice) : undefined;
}

function devicesChanged(olds: PropertyBag, news: PropertyBag): boolean {
  const before = wireDevicesOf(olds.devices);
  const after = wireDevicesOf(news.devices);
  return before === undefined || after === undefined ? differs(olds, news, "devices") : !sameDevices(before, after);
}

const PoolDeviceHealth = named(z.object({
  deviceId: z.string().describe("The server's id of the device."),
  type: z.enum(["image_file", "block_device"]),
  path: z.string().describe("Image file or block device path on the server."),
  sizeBytes: z.number(),
  state: z.string().describe("\"Online\", \"Missing\", or \"Unknown\" when the pool is not mounted."),
  errors: z.object({ read: z.number(), write: z.number(), flush: z.number(), corruption: z.number(), generation: z.number() })
    .describe("btrfs's cumulative per-device error counters (`btrfs device stats`)."),
}), "PoolDeviceHealth", "Health of one device of a pool, as btrfs reports it.");

export const PoolOutputs = z.object({
  poolId: z.string().describe("The pool's DPL id (32 hex characters), the same as the resource id."),
  totalBytes: z.number().describe("Usable bytes after redundancy."),
  usedBytes: z.number().describe("Bytes in use."),
  freeBytes: z.number().describe("Bytes still free."),
  provisionedBytes: z.number().describe("Sum of the logical sizes of all volumes (thin volumes count in full)."),
  state: z.string().describe("\"Online\", \"Degraded\" (a device is missing; the pool serves from redundancy) or \"Offline\"."),
  deviceHealth: z.array(PoolDeviceHealth).describe("Every device with its state and btrfs error counters (read on create, update and refresh)."),
  effectiveRaidLevel: z.string().describe("The RAID level the server reports."),
  effectiveCompression: z.string().describe("The compression the server reports."),
  nextScrubAt: z.string().optional().describe(
    "When the server starts the next scheduled scrub (ISO 8601, as of the last create, update or refresh); undefined when not scheduled.",
  ),
  nextDedupeAt: z.string().optional().describe("When the server starts the next scheduled dedupe; undefined when not scheduled."),
});

export function poolOutputs(reply: PoolReply): z.output<typeof PoolOutputs> {
  const m = reply.metadata;
  return {
    poolId: m.pool_uuid,
    totalBytes: m.total_capacity,
    usedBytes: m.used_capacity,
    freeBytes: m.available_capacity,
    provisionedBytes: m.provisioned_capacity,
    state: m.state,
    effectiveRaidLevel: m.properties.raid_level,
    effectiveCompression: m.properties.compression,
    deviceHealth: m.devices.map((d) => ({
      deviceId: d.device_uuid,
      type: d.type,
      path: d.path,
      sizeBytes: d.size,
      state: d.state,
      errors: { ...d.errors },
    })),
    // Only when scheduled: pulumi cannot carry an undefined property value.
    ...(m.next_scrub_at == null ? {} : { nextScrubAt: new Date(m.next_scrub_at).toISOString() }),
    ...(m.next_dedupe_at == null ? {} : { nextDedupeAt: new Date(m.next_dedupe_at).toISOString() }),
  };
}

/** Earlier state with the pool's outputs as the server now reports them (a due time no longer scheduled is dropped). */
function withPoolOutputs(state: PropertyBag, reply: PoolReply): PropertyBag {
  const { nextScrubAt: _scrub, nextDedupeAt: _dedupe, ...rest } = state;
  return { ...rest, ...poolOutputs(reply) };
}

function wireDevice(device: z.output<typeof PoolDeviceInput>): PoolDevice {
  if (device.path !== undefined) return { type: "block_device", path: device.path };
  return { type: "image_file", size: device.sizeBytes ?? Math.round((device.sizeGib ?? 0) * GIB) };
}

function wireCeph(ceph: z.output<typeof CephConnectionInput>): NonNullable<PoolSpec["ceph"]> {
  return { config_path: ceph.configPath, keyring_path: ceph.keyringPath, rbd_pool: ceph.rbdPool, ...(ceph.clientId === undefined ? {} : { client_id: ceph.clientId }) };
}

function cephInputOf(ceph: NonNullable<PoolReply["metadata"]["ceph"]>): z.output<typeof CephConnectionInput> {
  return { configPath: ceph.config_path, keyringPath: ceph.keyring_path, clientId: ceph.client_id, rbdPool: ceph.rbd_pool };
}

/** A change of backend or Ceph pool would move every volume: it fails at preview instead of planning a replacement. */
function fixedAtCreation(olds: PropertyBag, news: PropertyBag): CheckFailure[] {
  if (Object.keys(olds).length === 0) return [];
  return FIXED_AT_CREATION.filter((key) => differs(olds, news, key)).map((key) => ({
    property: key,
    reason: `a pool's ${key} is fixed when it is created (a pool never moves between backends or Ceph pools and is never replaced); `
      + "create another Pool with the new value and move volumes to it",
  }));
}

function adoptionMismatch(reply: PoolReply, inputs: PoolInputs): string | undefined {
  const m = reply.metadata;
  const problems: string[] = [];
  const backend = m.backend ?? "btrfs";
  if ((inputs.backend ?? "btrfs") !== backend) problems.push(`its backend is ${backend}`);
  if (inputs.raidLevel !== undefined && inputs.raidLevel !== m.properties.raid_level) problems.push(`its RAID level is ${m.properties.raid_level}`);
  if (inputs.compression !== undefined && inputs.compression !== m.properties.compression) problems.push(`its compression is ${m.properties.compression}`);
  return problems.length === 0 ? undefined : problems.join("; ");
}

async function createPool(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(PoolInputs, bag, "Pool");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    let reply = await client.getPool(id);
    if (reply === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt pool ${inputs.adopt}: no such pool on the DPL server`);
    if (reply === undefined) {
      const capabilities = await serverCapabilities(client);
      requireSupported("RAID level", inputs.raidLevel ?? "single", capabilities.raid_levels, client.endpoint);
      requireSupported("compression", compressionAlgorithm(inputs.compression ?? "none"), capabilities.compression, client.endpoint);
      reply = await client.createPool(id, {
        name: inputs.name,
        description: inputs.description,
        raidLevel: inputs.raidLevel ?? "single",
        compression: inputs.compression ?? "none",
        maxOversubscription: inputs.maxOversubscription,
        forceRaid56: inputs.allowUnsafeRaid56,
        devices: (inputs.devices ?? []).map(wireDevice),
        ...(inputs.backend === undefined ? {} : { backend: inputs.backend }),
        ...(inputs.ceph === undefined ? {} : { ceph: wireCeph(inputs.ceph) }),
        ...(inputs.scrubIntervalHours === undefined && inputs.dedupeIntervalHours === undefined ? {} : { maintenanceSchedule: wireSchedule(inputs) }),
      });
    } else {
      const mismatch = adoptionMismatch(reply, inputs);
      if (mismatch !== undefined) throw new Error(`cannot adopt pool ${id}: ${mismatch}; make the program match the pool`);
      recordFoundAtCreate(id);
      // An adopted pool runs on the program's schedule from now on.
      if (scheduleDiffers(reply, inputs)) reply = await client.setPoolSchedule(id, wireSchedule(inputs));
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...poolOutputs(reply) } };
  });
}

/** An imported pool's inputs: its name and the settings that differ from what an absent input means. */
function importedPoolInputs(reply: PoolReply): PropertyBag {
  const m = reply.metadata;
  return {
    name: m.display_name,
    ...(m.devices.length === 0 ? {} : { devices: m.devices.map((device) => (device.type === "block_device" ? { path: device.path } : { sizeBytes: device.size })) }),
    ...(m.display_description ? { description: m.display_description } : {}),
    ...(m.properties.raid_level === "single" ? {} : { raidLevel: m.properties.raid_level }),
    ...(m.properties.compression === "none" ? {} : { compression: m.properties.compression }),
    ...(m.max_oversubscription === null ? {} : { maxOversubscription: m.max_oversubscription }),
    ...(m.backend === "rbd" ? { backend: "rbd" } : {}),
    ...(m.ceph == null ? {} : { ceph: cephInputOf(m.ceph) }),
  };
}

async function readPool(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getPool(id);
    if (reply === undefined) return { id: "" };
    const inputs = scheduleInputsFrom(reply, isImport(props) ? importedPoolInputs(reply) : pick(props, INPUT_KEYS));
    return { id, props: withPoolOutputs(withInputs(props, inputs, INPUT_KEYS), reply), inputs };
  });
}

/**
 * Sets changed settings (name, description, compression, cap), converges the devices in place,
 * one change at a time (each waits for btrfs: a removal moves the data off, a replace copies or
 * rebuilds one device), sets the maintenance schedule when it changed, then reports the pool as
 * it is.
 */
async function updatePool(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(PoolInputs, news, "Pool");
  const scheduleChanged = SCHEDULE_KEYS.some((key) => differs(olds, news, key));
  const settings = settingsChange(olds, inputs);
  if (inputs.devices === undefined && !scheduleChanged && settings === undefined) return { outs: withInputs(olds, news, INPUT_KEYS) };
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    let reply = await client.getPool(id);
    if (reply === undefined) throw new Error(`pool ${id} no longer exists on the DPL server; run pulumi refresh`);
    const { raid_level: raid, force_raid56: _force, ...rest } = settings ?? {};
    if (Object.keys(rest).length > 0) reply = await client.changePoolSettings(id, rest);
    const convert = async (): Promise<void> => {
      if (raid !== undefined) reply = await client.changePoolSettings(id, { raid_level: raid, ...(settings?.force_raid56 ? { force_raid56: true } : {}) });
    };
    const wanted = inputs.devices?.map(wireDevice);
    // A conversion needs the devices of its profile: added ones come before it, removed ones after.
    const growing = wanted !== undefined && wanted.length >= reply.metadata.devices.length;
    if (!growing) await convert();
    if (wanted !== undefined) {
      for (const change of planDeviceChanges(reply.metadata.devices, wanted)) reply = await client.changePoolDevices(id, change);
    }
    if (growing) await convert();
    if (scheduleChanged || scheduleDiffers(reply, inputs)) reply = await client.setPoolSchedule(id, wireSchedule(inputs));
    return { outs: withPoolOutputs(withInputs(olds, news, INPUT_KEYS), reply) };
  });
}

async function deletePool(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  await withClient(timeoutOf(props), (client) => client.deletePool(id, { force: props.forceDestroy === true }));
}

const stateOnly = "only the Pulumi state changes";

export const poolDefinition = defineResource({
  kind: "pool",
  typeName: "Pool",
  description: "A DPL storage pool: btrfs over image files or block devices (RAID, compression), or RBD images in a Ceph pool.",
  inputs: PoolFields,
  validation: PoolInputs,
  outputs: PoolOutputs,
  // Nothing replaces a pool: every input changes in place (a pool holds data).
  changes: {
    devices: inPlace("devices are added, removed or replaced one at a time; the pool and its volumes stay", { changed: devicesChanged }),
    name: inPlace("the pool is renamed on the server"),
    description: inPlace("the description is changed on the server"),
    compression: inPlace("data written from then on uses the new compression; stored data keeps its own"),
    maxOversubscription: inPlace("the server's cap changes"),
    raidLevel: inPlace("the pool is converted online (a balance)", { absentMeans: "single" }),
    allowUnsafeRaid56: inPlace(stateOnly),
    forceDestroy: inPlace(stateOnly),
    scrubIntervalHours: inPlace("the server's schedule changes"),
    dedupeIntervalHours: inPlace("the server's schedule changes"),
    operationTimeoutSeconds: inPlace(stateOnly),
    tags: inPlace(stateOnly),
  },
  stables: ["poolId"],
  extraCheck: (olds, news, parsed) => {
    const tooFew = parsed === undefined ? undefined : tooFewDevices(parsed as PoolInputs);
    return [...fixedAtCreation(olds, news), ...(tooFew === undefined ? [] : [{ property: "raidLevel", reason: tooFew }])];
  },
  create: createPool,
  read: readPool,
  update: updatePool,
  delete: deletePool,
});
