/**
 * A pool's devices changed in place: add, remove, replace. Each is a job holding the pool's
 * maintenance lock (a scrub or dedupe and a device change never overlap, and the pool cannot be
 * deleted meanwhile) while volumes in the pool stay usable. Requests the pool could not survive
 * are refused before any work starts, naming the field to blame.
 */
import { requireBackendSupports } from "./backend-features";
import type { RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { DeviceChange, DeviceRequest } from "./commands";
import type { CoreContext } from "./context";
import { poolMaintenanceLock } from "./context";
import { DomainError } from "./domain-error";
import { imageFileBytes, imageSizeField, withHostSpaceLock } from "./host-space-guard";
import type { StartedJob } from "./jobs";
import type { PoolService } from "./pool-service";
import type { DeviceSpec, PoolDeviceRecord } from "./ports";
import type { PoolRecord } from "./records";

type AddChange = Extract<DeviceChange, { operation: "add" }>;
type RemoveChange = Extract<DeviceChange, { operation: "remove" }>;
type ReplaceChange = Extract<DeviceChange, { operation: "replace" }>;

/** The fewest devices btrfs keeps each data profile on. */
export const MIN_DEVICES_TO_KEEP: Record<RaidLevel, number> = { single: 1, raid0: 2, raid1: 2, raid10: 2, raid1c3: 3, raid5: 2, raid6: 3 };
const MAX_DEVICES = 16;

/** Share of raw device bytes that holds data under each profile, on `n` devices. */
function dataShare(raid: RaidLevel, n: number): number {
  switch (raid) {
    case "single":
    case "raid0":
      return 1;
    case "raid1":
    case "raid10":
      return 1 / 2;
    case "raid1c3":
      return 1 / 3;
    case "raid5":
      return (n - 1) / n;
    case "raid6":
      return (n - 2) / n;
  }
}

/** Room kept free after a removal: metadata chunks and btrfs's global reserve need some. */
const REMOVAL_HEADROOM_BYTES = 64 * 2 ** 20;

export class PoolDeviceService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly pools: PoolService,
  ) {}

  async change(poolId: string, change: DeviceChange): Promise<StartedJob> {
    requireBackendSupports(this.pools.require(poolId), "devices", "operation");
    switch (change.operation) {
      case "add":
        return this.add(poolId, change);
      case "remove":
        return this.remove(poolId, change);
      case "replace":
        return this.replace(poolId, change);
    }
  }

  private add(poolId: string, change: AddChange): Promise<StartedJob> {
    const imageBytes = imageFileBytes(change.devices);
    return this.ctx.jobs.start({
      lockKeys: withHostSpaceLock([poolMaintenanceLock(poolId)], imageBytes),
      objectType: "pool",
      objectId: poolId,
      operation: "add_devices",
      admit: async () => {
        const pool = this.requireAvailable(poolId);
        if (pool.devices.length + change.devices.length > MAX_DEVICES) {
          throw new DomainError("INVALID_ARGUMENT", `pool ${poolId} has ${pool.devices.length} devices; it can take at most ${MAX_DEVICES}`, "devices");
        }
        const specs = change.devices.map((device, i) => this.deviceSpec(device, `devices.${i}`));
        await this.pools.hostSpace.requireRoomForImageFiles(imageBytes, imageSizeField(change.devices));
        return specs;
      },
      work: async (specs) => {
        const added = await this.ctx.poolEngine.addDevices(poolId, specs);
        this.ctx.store.setPoolDevices(poolId, [...this.pools.require(poolId).devices, ...added]);
        this.ctx.log(`pool ${poolId}: added ${added.length} devices`);
      },
      // addDevices releases what it made when it fails; the records were not touched.
      undo: () => undefined,
    });
  }

  private remove(poolId: string, change: RemoveChange): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [poolMaintenanceLock(poolId)],
      objectType: "pool",
      objectId: poolId,
      operation: "remove_devices",
      admit: async () => {
        const pool = this.requireAvailable(poolId);
        const remove = change.deviceIds.map((uuid, i) => this.requireDevice(pool, uuid, `deviceIds.${i}`));
        if (new Set(change.deviceIds).size !== change.deviceIds.length) {
          throw new DomainError("INVALID_ARGUMENT", "names a device more than once", "deviceIds");
        }
        await this.checkRemainingHoldPool(pool, remove);
        return { pool, remove };
      },
      work: async ({ pool, remove }) => {
        await this.ctx.poolEngine.removeDevices(poolId, pool.raid, remove, pool.devices);
        const gone = new Set(remove.map((d) => d.deviceId));
        this.ctx.store.setPoolDevices(poolId, pool.devices.filter((d) => !gone.has(d.deviceId)));
        this.ctx.log(`pool ${poolId}: removed ${remove.length} devices`);
      },
      // btrfs moves data off and drops the devices all together, or keeps them all.
      undo: () => undefined,
    });
  }

  private replace(poolId: string, change: ReplaceChange): Promise<StartedJob> {
    const imageBytes = imageFileBytes([change.device]);
    return this.ctx.jobs.start({
      lockKeys: withHostSpaceLock([poolMaintenanceLock(poolId)], imageBytes),
      objectType: "pool",
      objectId: poolId,
      operation: "replace_device",
      admit: async () => {
        const pool = this.requireAvailable(poolId);
        const old = this.requireDevice(pool, change.deviceId, "deviceId");
        const spec = this.deviceSpec(change.device, "device", old);
        if (spec.type === "image_file" && spec.size < old.size) {
          throw new DomainError("INVALID_ARGUMENT",
            `the new device must be at least as large as device ${old.deviceId} (${old.size} bytes)`, "device.size");
        }
        // The old device's file stays until the new one holds its data: both must fit at once.
        await this.pools.hostSpace.requireRoomForImageFiles(imageBytes, "device.size");
        return { pool, old, spec };
      },
      work: async ({ pool, old, spec }) => {
        const added = await this.ctx.poolEngine.replaceDevice(poolId, old, pool.devices, spec);
        // The new device takes the old one's place in the list, as it took its place in btrfs.
        const devices = pool.devices.map((d) => (d.deviceId === old.deviceId ? added : d));
        this.ctx.store.setPoolDevices(poolId, devices);
        this.ctx.log(`pool ${poolId}: device ${old.deviceId} replaced by ${added.deviceId}`);
        await this.ctx.poolEngine.restoreProfile(poolId, pool.raid, devices.length);
      },
      // replaceDevice releases the new device when it fails; a failed profile restore leaves a
      // working pool whose records already match the disk.
      undo: () => undefined,
    });
  }

  private requireAvailable(poolId: string): PoolRecord {
    const pool = this.pools.require(poolId);
    if (pool.state !== "available") throw new DomainError("CONFLICT", `pool ${poolId} is ${pool.state}`);
    return pool;
  }

  private requireDevice(pool: PoolRecord, deviceId: string, field: string): PoolDeviceRecord {
    const device = pool.devices.find((d) => d.deviceId === deviceId);
    if (device === undefined) throw new DomainError("NOT_FOUND", `pool ${pool.id} has no device ${deviceId}`, field);
    return device;
  }

  /** `replacing`: a new disk put in at a failed one's path may take its place. */
  private deviceSpec(device: DeviceRequest, field: string, replacing?: PoolDeviceRecord): DeviceSpec {
    if (device.type === "image_file") return { type: "image_file", size: device.size };
    if (!this.ctx.settings.allowedBlockDevices.includes(device.path)) {
      throw new DomainError("INVALID_ARGUMENT", `block device ${device.path} is not on this server's allow-list`, `${field}.path`);
    }
    const owner = this.ctx.store.listPools().find((p) => p.devices.some((d) => d.path === device.path && d.deviceId !== replacing?.deviceId));
    if (owner !== undefined) {
      throw new DomainError("CONFLICT", `block device ${device.path} already belongs to pool ${owner.id}`, `${field}.path`);
    }
    return { type: "block_device", path: device.path };
  }

  /**
   * Refuses a removal that would leave fewer devices than the profile needs, or too little
   * room for the data already stored. A missing device holds nothing and counts for nothing.
   */
  private async checkRemainingHoldPool(pool: PoolRecord, remove: PoolDeviceRecord[]): Promise<void> {
    const removed = new Set(remove.map((d) => d.deviceId));
    const health = await this.ctx.poolEngine.health(pool.id, pool.devices);
    const present = new Set(health.devices.filter((d) => d.present).map((d) => d.deviceId));
    const remaining = pool.devices.filter((d) => !removed.has(d.deviceId) && present.has(d.deviceId));
    const needed = MIN_DEVICES_TO_KEEP[pool.raid];
    if (remaining.length < needed) {
      throw new DomainError("INVALID_ARGUMENT",
        `${pool.raid} needs at least ${needed} working devices; this would leave ${remaining.length}`, "deviceIds");
    }
    const rawBytes = remaining.reduce((sum, d) => sum + d.size, 0);
    const room = Math.floor(rawBytes * dataShare(pool.raid, remaining.length));
    const { usedBytes } = await this.pools.usage(pool);
    if (usedBytes + REMOVAL_HEADROOM_BYTES > room) {
      throw new DomainError("INSUFFICIENT_CAPACITY",
        `the remaining devices hold about ${room} bytes under ${pool.raid}; the pool stores ${usedBytes} (plus ${REMOVAL_HEADROOM_BYTES} kept free)`, "deviceIds");
    }
  }
}
