import { z } from "zod";
import { withClient } from "../config/open-client";
import {
  Compression, Description, DisplayName, HexId, isUnsafeRaidLevel, MIN_MAINTENANCE_INTERVAL_SECONDS, PositiveBytes, RAID_MIN_DEVICES, RaidLevel,
  type MaintenanceSchedule, type PoolDevice, type PoolReply, type PoolSettings,
} from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { containsUnknown, differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { planDeviceChanges, sameDevices } from "./pool-devices";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";
import { compressionAlgorithm, requireSupported, serverCapabilities } from "./server-capabilities";
import { GIB, SizeGib } from "./size-inputs";

/** A device: an image file the server makes in its state dir (by size), or a block device path. */
const PoolDeviceInput = z
  .object({
    sizeBytes: PositiveBytes.optional(),
    sizeGib: SizeGib.optional(),
    path: z.string().optional(),
  })
  .strict()
  .refine((d) => [d.sizeBytes, d.sizeGib, d.path].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of sizeGib, sizeBytes (an image file) or path (a block device)",
  });

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

export const PoolInputs = z.object({
  objectId: HexId,
  adopt: HexId.optional(),
  name: DisplayName,
  description: Description.optional(),
  devices: z.array(PoolDeviceInput).min(1, "must name at least one device").max(16, "must name at most 16 devices").optional(),
  raidLevel: RaidLevel.optional(),
  compression: Compression.optional(),
  maxOversubscription: z.number().positive().max(1000).optional(),
  /** raid5/raid6 only with this set: btrfs parity RAID has a write hole and scrubs slowly. */
  allowUnsafeRaid56: z.boolean().optional(),
  /** Delete the pool even when volumes remain in it. */
  forceDestroy: z.boolean().optional(),
  /** The server scrubs the pool this many hours after the last scrub finished; absent: never on its own. */
  scrubIntervalHours: IntervalHours.optional(),
  /** The same for dedupe. */
  dedupeIntervalHours: IntervalHours.optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
  tags: PoolTags.optional(),
})
  .refine((p) => p.adopt !== undefined || p.devices !== undefined, { path: ["devices"], message: "is required unless adopting an existing pool" })
  .refine((p) => p.raidLevel === undefined || !isUnsafeRaidLevel(p.raidLevel) || p.allowUnsafeRaid56 === true, {
    path: ["allowUnsafeRaid56"],
    message: "must be true to use raid5 or raid6 (btrfs parity RAID: a crash can leave stripes whose parity no longer matches — the write hole — and scrub is slow; see docs/OPERATIONS.md)",
  });
export type PoolInputs = z.output<typeof PoolInputs>;

const INPUT_KEYS = [
  "objectId", "adopt", "name", "description", "devices", "raidLevel", "compression", "maxOversubscription", "allowUnsafeRaid56", "forceDestroy",
  "scrubIntervalHours", "dedupeIntervalHours", "operationTimeoutSeconds", "tags",
] as const;
/** Nothing replaces a pool: every input changes in place (a pool holds data). */
const REPLACE_KEYS = [] as const;
/**
 * The server changes these in place: a new compression applies to data written from then on; a
 * new RAID level converts the stored data online (a balance).
 */
const SETTINGS_KEYS = ["name", "description", "compression", "maxOversubscription", "raidLevel"] as const;
/** Changed in place: devices are added, removed or replaced; settings and the schedule are set; the rest only live in state. */
const UPDATE_KEYS = [
  ...SETTINGS_KEYS, "allowUnsafeRaid56", "forceDestroy", "scrubIntervalHours", "dedupeIntervalHours", "operationTimeoutSeconds", "tags",
] as const;
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

export function poolReplaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

function checkPool(olds: PropertyBag, news: PropertyBag): CheckResult {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, poolReplaceKeys(olds, news).length > 0) };
  const validation = validateInputs(PoolInputs, inputs);
  if (!validation.ok) return { inputs, failures: validation.failures };
  const tooFew = tooFewDevices(validation.value);
  return tooFew === undefined ? { inputs } : { inputs, failures: [{ property: "raidLevel", reason: tooFew }] };
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

function diffPool(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = poolReplaceKeys(olds, news);
  const updates = [
    ...(devicesChanged(olds, news) ? ["devices"] : []),
    ...UPDATE_KEYS.filter((key) => differs(olds, news, key, key === "raidLevel" ? singleByDefault : undefined)),
  ];
  return { changes: replaces.length > 0 || updates.length > 0, replaces, stables: replaces.length > 0 ? [] : ["poolId"], deleteBeforeReplace: false };
}

export function poolOutputs(reply: PoolReply): PropertyBag {
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

function adoptionMismatch(reply: PoolReply, inputs: PoolInputs): string | undefined {
  const m = reply.metadata;
  const problems: string[] = [];
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

async function readPool(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getPool(id);
    if (reply === undefined) return { id: "" };
    const inputs = scheduleInputsFrom(reply, pick(props, INPUT_KEYS));
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

export const poolHooks: ResourceHooks = {
  check: (olds, news) => Promise.resolve(checkPool(olds, news)),
  diff: (id, olds, news) => Promise.resolve(diffPool(id, olds, news)),
  create: createPool,
  read: readPool,
  update: updatePool,
  delete: deletePool,
};
