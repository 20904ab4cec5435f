import { isUnsafeRaidLevel, RAID_MIN_DEVICES, type RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { NewPool } from "./commands";
import type { CoreContext } from "./context";
import type { ExportService } from "./export-service";
import { HostSpaceGuard, imageFileBytes, imageSizeField, withHostSpaceLock } from "./host-space-guard";
import { poolLock, poolMaintenanceLock } from "./context";
import { requireBackendSupports, requireScheduleSupported } from "./backend-features";
import { DomainError, notFound } from "./domain-error";
import { ReuseEvent, type StartedJob } from "./jobs";
import type { CephConnection, DeviceHealth, DeviceSpec, PoolHealth, PoolUsage } from "./ports";
import { applySchedule } from "./maintenance-schedule";
import type { PoolRecord, PoolSettingsChange } from "./records";

export interface PoolView {
  pool: PoolRecord;
  usage: PoolUsage;
  health: PoolHealth;
  provisionedBytes: number;
  childIds: string[];
}

const offlineUsage: PoolUsage = { totalBytes: 0, usedBytes: 0, freeBytes: 0 };

export class PoolService {
  readonly hostSpace: HostSpaceGuard;

  constructor(
    private readonly ctx: CoreContext,
    private readonly exports: ExportService,
  ) {
    this.hostSpace = new HostSpaceGuard(ctx);
  }

  list(): PoolRecord[] {
    return this.ctx.store.listPools().filter((p) => p.state !== "deleting");
  }

  /** The record, in whatever state (undefined: no such pool). */
  find(id: string): PoolRecord | undefined {
    return this.ctx.store.getPool(id);
  }

  snapshotCount(poolId: string): number {
    return this.ctx.store.listSnapshots({ poolId }).length;
  }

  require(id: string): PoolRecord {
    const pool = this.ctx.store.getPool(id);
    if (pool === undefined) throw notFound("pool", id);
    return pool;
  }

  /** An available pool a new volume may go to. */
  requireUsable(id: string, field: string): PoolRecord {
    const pool = this.ctx.store.getPool(id);
    if (pool === undefined) throw new DomainError("NOT_FOUND", `pool ${id} does not exist`, field);
    if (pool.state !== "available") throw new DomainError("CONFLICT", `pool ${id} is ${pool.state}`, field);
    return pool;
  }

  provisionedBytes(poolId: string): number {
    return this.ctx.store.poolVolumeTotals(poolId).provisionedBytes;
  }

  async usage(pool: PoolRecord): Promise<PoolUsage> {
    if (pool.state !== "available") return offlineUsage;
    try {
      return await this.ctx.poolEngine.usage(pool.id);
    } catch {
      return offlineUsage;
    }
  }

  async view(id: string): Promise<PoolView> {
    const pool = this.require(id);
    const usage = await this.usage(pool);
    let health: PoolHealth;
    if (pool.state === "available") {
      health = await this.ctx.poolEngine.health(pool.id, pool.devices).catch((): PoolHealth => ({ state: "Offline", devices: [] }));
    } else {
      health = { state: "Offline", devices: [] };
    }
    return { pool, usage, health, provisionedBytes: this.provisionedBytes(id), childIds: this.ctx.store.poolVolumeIds(id) };
  }

  /**
   * Refuses a volume (or growth by `growBytes`) the pool cannot hold: beyond its usable size at
   * all, beyond its over-subscription cap when thin, beyond free space when thick.
   */
  async checkCapacity(pool: PoolRecord, growBytes: number, thin: boolean, field: string): Promise<void> {
    const usage = await this.usage(pool);
    if (growBytes > usage.totalBytes) {
      throw new DomainError("INSUFFICIENT_CAPACITY",
        `${growBytes} bytes is more than pool ${pool.id} could ever hold (${usage.totalBytes} usable bytes)`, field);
    }
    if (thin) {
      if (pool.maxOversubscription !== null) {
        const cap = usage.totalBytes * pool.maxOversubscription;
        const provisioned = this.provisionedBytes(pool.id);
        if (provisioned + growBytes > cap) {
          throw new DomainError("INSUFFICIENT_CAPACITY",
            `pool ${pool.id} would be provisioned ${provisioned + growBytes} bytes, over its cap of ${Math.floor(cap)} (over-subscription ${pool.maxOversubscription}×)`, field);
        }
      }
    } else if (growBytes > usage.freeBytes) {
      // Space just given back by deletes may not count yet: look again once it does.
      await this.ctx.poolEngine.reclaimFreedSpace?.(pool.id).catch(() => undefined);
      const { freeBytes } = await this.usage(pool);
      if (growBytes > freeBytes) {
        throw new DomainError("INSUFFICIENT_CAPACITY",
          `a thick allocation of ${growBytes} bytes needs that much free space; pool ${pool.id} has ${freeBytes}`, field);
      }
    }
    if (!thin) await this.hostSpace.requireRoomForThick(pool, growBytes, field);
  }

  async create(id: string, pool: NewPool): Promise<StartedJob> {
    const backend = pool.backend ?? "btrfs";
    const ceph = backend === "rbd" ? this.allowedCephConnection(pool) : null;
    const devices: DeviceSpec[] = pool.devices.map((d, i) => {
      if (d.type === "image_file") return { type: "image_file", size: d.size };
      if (!this.ctx.settings.allowedBlockDevices.includes(d.path)) {
        throw new DomainError("INVALID_ARGUMENT", `block device ${d.path} is not on this server's allow-list`, `devices.${i}.path`);
      }
      return { type: "block_device", path: d.path };
    });
    const raid = pool.raid;
    if (isUnsafeRaidLevel(raid) && pool.forceRaid56 !== true) {
      throw new DomainError("INVALID_ARGUMENT",
        `${raid} risks data on a crash (btrfs parity RAID has a write hole) and scrubs slowly; it is done only when forced, which accepts that`, "forceRaid56");
    }
    const needed = backend === "rbd" ? 0 : RAID_MIN_DEVICES[raid];
    if (devices.length < needed) {
      throw new DomainError("INVALID_ARGUMENT", `${raid} needs at least ${needed} devices`, "devices");
    }
    if (pool.maintenanceSchedule !== undefined) requireScheduleSupported({ id, backend }, pool.maintenanceSchedule, "maintenanceSchedule");
    const imageBytes = imageFileBytes(pool.devices);
    return this.ctx.jobs.start({
      lockKeys: withHostSpaceLock([poolLock(id)], imageBytes),
      objectType: "pool",
      objectId: id,
      operation: "create",
      admit: async () => {
        const existing = this.ctx.store.getPool(id);
        if (existing !== undefined) {
          const same = existing.name === pool.name && existing.raid === pool.raid
            && existing.compression === pool.compression && existing.devices.length === devices.length
            && existing.backend === backend && JSON.stringify(existing.ceph) === JSON.stringify(ceph);
          if (!same) throw new DomainError("ALREADY_EXISTS", `pool ${id} already exists with a different specification`);
          return new ReuseEvent(this.ctx.jobs.lastEvent("pool", id, "create"));
        }
        await this.hostSpace.requireRoomForImageFiles(imageBytes, imageSizeField(pool.devices));
        // Checked after the await, right before the insert: no other create can slip in between.
        if (this.ctx.store.listPools().some((p) => p.name === pool.name)) {
          throw new DomainError("ALREADY_EXISTS", `a pool named ${pool.name} already exists`, "name");
        }
        this.ctx.store.insertPool({
          id,
          name: pool.name,
          description: pool.description ?? null,
          raid,
          compression: pool.compression,
          maxOversubscription: pool.maxOversubscription ?? null,
          state: "creating",
          ctime: Date.now(),
          devices: [],
          backend,
          ceph,
        });
        return id;
      },
      work: async () => {
        const records = await this.ctx.poolEngine.createPool(id, raid, pool.compression, devices);
        this.ctx.store.transaction(() => {
          this.ctx.store.setPoolDevices(id, records);
          this.ctx.store.setPoolState(id, "available");
          if (pool.maintenanceSchedule !== undefined) applySchedule(this.ctx.store, id, pool.maintenanceSchedule, Date.now());
        });
      },
      undo: () => {
        // createPool undoes its own partial work; only the record is left to remove.
        this.ctx.store.deletePool(id);
      },
    });
  }

  /** The Ceph connection of a new rbd pool, refused unless its files are on the server's allow-list. */
  private allowedCephConnection(pool: NewPool): CephConnection {
    const ceph = pool.ceph;
    if (ceph === undefined) throw new DomainError("INVALID_ARGUMENT", "an rbd pool needs its Ceph connection (config, keyring, RBD pool)", "ceph");
    if (pool.devices.length > 0) throw new DomainError("INVALID_ARGUMENT", "an rbd pool has no devices: the Ceph cluster holds its data", "devices");
    const allowed = this.ctx.settings.allowedCephFiles ?? [];
    for (const [field, path] of [["ceph.configPath", ceph.configPath], ["ceph.keyringPath", ceph.keyringPath]] as const) {
      if (!allowed.includes(path)) {
        throw new DomainError("INVALID_ARGUMENT", `${path} is not on this server's allow-list of Ceph files (--allow-ceph-file)`, field);
      }
    }
    return ceph;
  }

  /**
   * Changes settings in place. Refused before any work: a name another pool has, a cap below what
   * is already provisioned, a compression change while the pool is not mounted. A new compression
   * is a remount (data written from then on); the record follows once it took effect.
   */
  async changeSettings(id: string, change: PoolSettingsChange): Promise<StartedJob> {
    const pool = this.require(id);
    if (change.compression !== undefined && change.compression !== pool.compression) requireBackendSupports(pool, "compression", "compression");
    const convert = change.raid !== undefined && change.raid !== pool.raid;
    if (convert) requireBackendSupports(pool, "raid", "raid");
    if (convert && change.raid !== undefined) await this.checkConversion(pool, change.raid, change.forceRaid56 === true);
    if (change.maxOversubscription !== undefined && change.maxOversubscription !== null) {
      const cap = (await this.usage(pool)).totalBytes * change.maxOversubscription;
      const provisioned = this.provisionedBytes(id);
      if (provisioned > cap) {
        throw new DomainError("INSUFFICIENT_CAPACITY",
          `pool ${id} already has ${provisioned} bytes provisioned, over the cap of ${Math.floor(cap)} that an over-subscription of ${change.maxOversubscription} would set`,
          "maxOversubscription");
      }
    }
    return this.ctx.jobs.start({
      // A conversion is a balance: no scrub, dedupe or device change may run beside it.
      lockKeys: convert ? [poolLock(id), poolMaintenanceLock(id)] : [poolLock(id)],
      objectType: "pool",
      objectId: id,
      operation: "settings",
      admit: () => {
        const current = this.require(id);
        if (current.state === "deleting") throw new DomainError("CONFLICT", `pool ${id} is being deleted`);
        if (change.name !== undefined && this.ctx.store.listPools().some((p) => p.id !== id && p.name === change.name)) {
          throw new DomainError("ALREADY_EXISTS", `a pool named ${change.name} already exists`, "name");
        }
        const recompress = change.compression !== undefined && change.compression !== current.compression;
        if (recompress && current.state !== "available") {
          throw new DomainError("CONFLICT", `pool ${id} is ${current.state}; its compression changes only while it is available`, "compression");
        }
        if (convert && current.state !== "available") {
          throw new DomainError("CONFLICT", `pool ${id} is ${current.state}; its RAID level changes only while it is available`, "raid");
        }
        return { recompress, devices: current.devices.length };
      },
      work: async ({ recompress, devices }, progress) => {
        if (recompress && change.compression !== undefined) await this.ctx.poolEngine.setCompression(id, change.compression);
        if (convert && change.raid !== undefined) await this.ctx.poolEngine.convertProfile(id, change.raid, devices, progress);
        this.ctx.store.setPoolSettings(id, change);
      },
      // The record is written last, in one statement: a failed remount changed nothing. A failed
      // conversion leaves chunks of both profiles (the data in each is intact); the record keeps
      // the old level and a retry converts the rest (the balance skips converted chunks).
      undo: () => undefined,
    });
  }

  /** Refuses a conversion the pool cannot make: too few devices, or stored data too big for the new profile. */
  private async checkConversion(pool: PoolRecord, raid: RaidLevel, forceRaid56: boolean): Promise<void> {
    const field = "raid";
    if (isUnsafeRaidLevel(raid) && !forceRaid56) {
      throw new DomainError("INVALID_ARGUMENT",
        `${raid} risks data on a crash (btrfs parity RAID has a write hole); it is done only when forced, which accepts that`, field);
    }
    const devices = pool.devices.length;
    if (devices < RAID_MIN_DEVICES[raid]) {
      throw new DomainError("INVALID_ARGUMENT", `${raid} needs at least ${RAID_MIN_DEVICES[raid]} devices; pool ${pool.id} has ${devices}`, field);
    }
    // A balance that runs out of space aborts its transaction and leaves the filesystem read-only:
    // refuse unless the stored data fits the new profile with room to spare (metadata, slack).
    const usable = usableBytes(raid, pool.devices.map((device) => device.size));
    const { usedBytes } = await this.usage(pool);
    if (usedBytes > usable * CONVERSION_HEADROOM) {
      throw new DomainError("INSUFFICIENT_CAPACITY",
        `pool ${pool.id} stores ${usedBytes} bytes; as ${raid} its devices hold ${Math.floor(usable)}, of which a conversion may fill ${Math.round(CONVERSION_HEADROOM * 100)}%`, field);
    }
  }

  async delete(id: string, force: boolean): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [poolLock(id), poolMaintenanceLock(id)],
      objectType: "pool",
      objectId: id,
      operation: "delete",
      admit: async () => {
        const pool = this.require(id);
        const volumes = this.ctx.store.listVolumes(id);
        const snapshots = this.ctx.store.listSnapshots({ poolId: id });
        // Image files exported into the pool's own library die with its filesystem: they count too.
        const images = pool.backend === "btrfs" ? ((await this.ctx.imageEngine?.list([this.ctx.volumeEngine.imageLibraryPath(id)])) ?? []) : [];
        if (!force && (volumes.length > 0 || snapshots.length > 0 || images.length > 0)) {
          const named = images.length === 0 ? "" : ` (${images.slice(0, 5).map((image) => image.id).join(", ")}${images.length > 5 ? ", …" : ""})`;
          throw new DomainError("BUSY",
            `pool ${id} still holds ${volumes.length} volumes, ${snapshots.length} snapshots and ${images.length} image files${named} in its image library; delete them or delete the pool with force`);
        }
        if (volumes.some((v) => v.state === "creating" || v.state === "deleting")) {
          throw new DomainError("BUSY", `pool ${id} has volumes being created or deleted; retry when they finish`);
        }
        this.ctx.store.setPoolState(id, "deleting");
        return pool;
      },
      work: async (pool) => {
        // No export can start meanwhile: assigning refuses volumes of a pool being deleted.
        for (const volume of this.ctx.store.listVolumes(id)) await this.exports.removeExport(volume.id);
        await this.ctx.poolEngine.destroyPool(id, pool.devices);
        this.ctx.store.transaction(() => {
          for (const volume of this.ctx.store.listVolumes(id)) this.ctx.store.deleteVolume(volume.id);
          for (const snapshot of this.ctx.store.listSnapshots({ poolId: id })) this.ctx.store.deleteSnapshot(snapshot.id);
          this.ctx.store.deletePool(id);
        });
      },
      undo: (pool) => {
        this.ctx.store.setPoolState(id, pool.state);
      },
    });
  }
}

export type { DeviceHealth };

/** The share of a profile's usable bytes a conversion may find already stored. */
const CONVERSION_HEADROOM = 0.85;

/**
 * Bytes a profile can store on devices of these sizes. Mirrored profiles need each copy on
 * another device: the largest x with sum(min(size, x)) >= copies * x, so a big device beside
 * small ones adds little; parity profiles give up one (raid5) or two (raid6) devices' worth.
 */
export function usableBytes(raid: RaidLevel, sizes: readonly number[]): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const largest = Math.max(0, ...sizes);
  const mirrored = (copies: number): number => {
    let low = 0;
    let high = total / copies;
    for (let i = 0; i < 60; i++) {
      const x = (low + high) / 2;
      if (sizes.reduce((sum, size) => sum + Math.min(size, x), 0) >= copies * x) low = x;
      else high = x;
    }
    return low;
  };
  switch (raid) {
    case "single":
    case "raid0":
      return total;
    case "raid1":
    case "raid10":
      return mirrored(2);
    case "raid1c3":
      return mirrored(3);
    case "raid5":
      return Math.min(total - largest, (total * (sizes.length - 1)) / sizes.length);
    case "raid6":
      return Math.min(total - 2 * largest, (total * (sizes.length - 2)) / sizes.length);
  }
}
