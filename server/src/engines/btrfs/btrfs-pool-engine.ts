/**
 * PoolEngine on btrfs: a pool is one btrfs filesystem over loop devices (image files under the
 * state dir) or block devices; a volume is a subvolume holding one file `data`; a snapshot is a
 * read-only subvolume snapshot. Snapshot and clone cost the same whatever a volume holds (a
 * subvolume snapshot copies one tree root); so does rollback by swap, while rollback in place
 * (exported volumes) reflinks the snapshot's file over the volume's and follows its extents.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, statfs, truncate } from "node:fs/promises";
import path from "node:path";
import type { Compression, RaidLevel } from "@prophetstor/dpl-provider/wire";
import type {
  BlockIoCounters, DeviceHealth, DeviceSpec, PoolDeviceRecord, HostSpace, PoolEngine, PoolHealth, PoolUsage, ProgressReporter, RollbackMode,
} from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";
import { mountedBlockIoCounters } from "./block-io-counters";
import { readHostSpace } from "./host-space";

export interface BtrfsPoolEngineOptions {
  /** The server's state dir: image files go to `<stateDir>/images/<pool>/`, mounts to `<stateDir>/pools/<pool>/`. */
  stateDir: string;
  /**
   * Loop devices read and write their image file with O_DIRECT (default true). Without it every
   * block is cached twice (btrfs's page cache and the image file's) and a LUN in `direct` cache
   * mode is acknowledged from the image file's page cache, so "direct" would not mean on disk.
   */
  loopDirectIo?: boolean;
}

/** Data profile → metadata profile: metadata is always at least as redundant as data. */
const BALANCE_POLL_MS = 500;

/** The byte ranges of a file's preallocated, never written extents, from `filefrag -v`. */
export function unwrittenRanges(filefrag: string): { offset: number; length: number }[] {
  const blockSize = Number(/blocks of (\d+) bytes/.exec(filefrag)?.[1] ?? 4096);
  const ranges: { offset: number; length: number }[] = [];
  for (const line of filefrag.split("\n")) {
    const extent = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):.*\bunwritten\b/.exec(line);
    if (extent === null) continue;
    const first = Number(extent[1]);
    ranges.push({ offset: first * blockSize, length: (Number(extent[2]) - first + 1) * blockSize });
  }
  return ranges;
}

/** "3 out of about 10 chunks balanced" (btrfs balance status) as 0.3; undefined when not running. */
export function balanceFraction(status: string): number | undefined {
  const match = /(\d+) out of about (\d+) chunks balanced/.exec(status);
  if (match === null) return undefined;
  const total = Number(match[2]);
  return total === 0 ? undefined : Math.min(1, Number(match[1]) / total);
}

function metadataProfile(raid: RaidLevel, deviceCount: number): string {
  switch (raid) {
    case "single":
      return deviceCount === 1 ? "dup" : "raid1";
    case "raid0":
    case "raid1":
    case "raid10":
      return deviceCount === 1 ? "dup" : "raid1";
    case "raid1c3":
      return "raid1c3";
    // Parity RAID's write hole must not reach the metadata: it is mirrored instead (btrfs's advice).
    case "raid5":
      return "raid1";
    case "raid6":
      return "raid1c3";
  }
}

// btrfs-progs 6 accepts raid10 on two devices; raid0 on one would stripe nothing.
const MIN_DEVICES: Record<RaidLevel, number> = { single: 1, raid0: 2, raid1: 2, raid10: 2, raid1c3: 3, raid5: 2, raid6: 3 };

/** Ids become path components: nothing that could climb out of the pool's directory. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class InvalidPoolRequestError extends Error {
  override name = "InvalidPoolRequestError";
}

export class VolumeNotFoundError extends Error {
  override name = "VolumeNotFoundError";
}

function checkId(kind: string, id: string): string {
  if (!SAFE_ID.test(id) || id.includes("..")) throw new InvalidPoolRequestError(`invalid ${kind} id ${JSON.stringify(id)}`);
  return id;
}

function mountOptions(compression: Compression): string {
  return compression === "none" ? "noatime" : `noatime,compress=${compression}`;
}

/** Long operations: mkfs on many devices, deleting or copying large files. */
const SLOW_COMMAND_MS = 10 * 60_000;
const COPY_COMMAND_MS = 6 * 60 * 60_000;
const HEALTH_READING_TTL_MS = 1_000;

interface FileSize {
  size: number;
  /** 512-byte blocks allocated (fewer than size / 512 for a thin file). */
  blocks: number;
}

export class BtrfsPoolEngine implements PoolEngine {
  private readonly stateDir: string;
  private readonly loopDirectIo: boolean;
  private readonly healthReadings = new Map<string, { at: number; health: PoolHealth }>();

  constructor(options: BtrfsPoolEngineOptions) {
    this.stateDir = path.resolve(options.stateDir);
    this.loopDirectIo = options.loopDirectIo ?? true;
  }

  // ------------------------------------------------------------------ paths

  imageDir(poolId: string): string {
    return path.join(this.stateDir, "images", checkId("pool", poolId));
  }

  mountPoint(poolId: string): string {
    return path.join(this.stateDir, "pools", checkId("pool", poolId));
  }

  private volumeDir(poolId: string, volumeId: string): string {
    return path.join(this.mountPoint(poolId), "volumes", checkId("volume", volumeId));
  }

  private snapshotDir(poolId: string, snapshotId: string): string {
    return path.join(this.mountPoint(poolId), "snapshots", checkId("snapshot", snapshotId));
  }

  volumeDataPath(poolId: string, volumeId: string): string {
    return path.join(this.volumeDir(poolId, volumeId), "data");
  }

  snapshotDataPath(poolId: string, snapshotId: string): string {
    return path.join(this.snapshotDir(poolId, snapshotId), "data");
  }

  // ------------------------------------------------------------------ pools

  async createPool(poolId: string, raid: RaidLevel, compression: Compression, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]> {
    if (devices.length < MIN_DEVICES[raid]) {
      throw new InvalidPoolRequestError(`${raid} needs at least ${MIN_DEVICES[raid]} devices, got ${devices.length}`);
    }
    const mountPoint = this.mountPoint(poolId);
    if (await this.isMounted(mountPoint)) throw new InvalidPoolRequestError(`pool ${poolId} is already mounted at ${mountPoint}`);
    const records = devices.map((device) => this.newDeviceRecord(poolId, device));
    try {
      const blockDevices: string[] = [];
      for (const record of records) blockDevices.push(await this.prepareDevice(record));
      await runCommand(
        "mkfs.btrfs",
        ["-q", "-L", `dpl-${poolId}`.slice(0, 255), "-d", raid, "-m", metadataProfile(raid, blockDevices.length), ...blockDevices],
        { timeoutMs: SLOW_COMMAND_MS },
      );
      await this.mount(mountPoint, blockDevices, compression, false);
      await mkdir(path.join(mountPoint, "volumes"), { recursive: true });
      await mkdir(path.join(mountPoint, "snapshots"), { recursive: true });
      return records;
    } catch (error) {
      // Undo only what this call made: never wipe a block device whose mkfs failed.
      await this.removeImages(poolId, records.filter((record) => record.type === "image_file")).catch(() => undefined);
      throw error;
    }
  }

  async attachPool(poolId: string, devices: PoolDeviceRecord[], compression: Compression): Promise<void> {
    this.healthReadings.delete(poolId);
    const mountPoint = this.mountPoint(poolId);
    if (await this.isMounted(mountPoint)) return;
    const blockDevices: string[] = [];
    let missing = 0;
    for (const device of devices) {
      // A device whose superblock is gone (a failed or wiped disk) would make the whole mount
      // fail: it is left out like a missing one, and the rest mount degraded.
      if (!existsSync(device.path) || !(await hasBtrfsSuperblock(device.path))) {
        missing += 1;
        continue;
      }
      blockDevices.push(device.type === "image_file" ? ((await this.loopsOf(device.path))[0] ?? (await this.attachLoop(device.path))) : device.path);
    }
    // A device a crash left added to btrfs but not yet recorded is still a member: without it the
    // mount would fail. Only a member's image has a superblock (remove and replace wipe theirs).
    for (const image of await this.strayImages(poolId, devices)) {
      if (await hasBtrfsSuperblock(image)) blockDevices.push((await this.loopsOf(image))[0] ?? (await this.attachLoop(image)));
    }
    if (blockDevices.length === 0) throw new InvalidPoolRequestError(`pool ${poolId}: none of its devices exist`);
    // A redundant pool with a device gone can still serve its data; health reports it Degraded.
    await this.mount(mountPoint, blockDevices, compression, missing > 0);
  }

  async detachPool(poolId: string, devices: PoolDeviceRecord[]): Promise<void> {
    this.healthReadings.delete(poolId);
    const mountPoint = this.mountPoint(poolId);
    if (await this.isMounted(mountPoint)) await runCommand("umount", [mountPoint], { timeoutMs: SLOW_COMMAND_MS });
    for (const device of devices) {
      if (device.type !== "image_file") continue;
      for (const loop of await this.loopsOf(device.path)) await runCommand("losetup", ["-d", loop]);
    }
  }

  async destroyPool(poolId: string, devices: PoolDeviceRecord[]): Promise<void> {
    this.healthReadings.delete(poolId);
    await this.removeImages(poolId, devices);
    for (const device of devices) {
      // So the device can make a new pool (mkfs.btrfs refuses a device holding a filesystem).
      if (device.type === "block_device" && existsSync(device.path)) await runCommand("wipefs", ["-a", device.path]);
    }
  }

  // ------------------------------------------------------------------ device changes (in place)

  async addDevices(poolId: string, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    const records = devices.map((device) => this.newDeviceRecord(poolId, device));
    try {
      const blockDevices: string[] = [];
      for (const record of records) blockDevices.push(await this.prepareDevice(record));
      // No discard: a fresh image file is all holes already, and a TRIM pass only costs time.
      await runCommand("btrfs", ["device", "add", "--nodiscard", ...blockDevices, mountPoint], { timeoutMs: SLOW_COMMAND_MS });
      return records;
    } catch (error) {
      // btrfs adds all named devices or none; what this call made is released.
      for (const record of records) await this.releaseDevice(record).catch(() => undefined);
      throw error;
    }
  }

  async removeDevices(poolId: string, raid: RaidLevel, remove: PoolDeviceRecord[], all: PoolDeviceRecord[]): Promise<void> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    const devids = await this.devidsOf(mountPoint, remove, all);
    const remaining = all.length - remove.length;
    if (remaining === 1 && raid === "single") {
      // Mirrored metadata cannot live on one device: make it DUP before the other goes.
      await runCommand("btrfs", ["balance", "start", "-f", "-mconvert=dup,soft", "-sconvert=dup,soft", mountPoint], { timeoutMs: COPY_COMMAND_MS });
    }
    // Moves every chunk off the devices first; refused as a whole when the rest cannot hold them.
    await runCommand("btrfs", ["device", "remove", ...devids.map(String), mountPoint], { timeoutMs: COPY_COMMAND_MS });
    for (const record of remove) await this.releaseDevice(record);
  }

  async replaceDevice(poolId: string, old: PoolDeviceRecord, all: PoolDeviceRecord[], device: DeviceSpec): Promise<PoolDeviceRecord> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    const [devid] = await this.devidsOf(mountPoint, [old], all);
    if (devid === undefined) throw new InvalidPoolRequestError(`device ${old.deviceId} is not part of pool ${poolId}`);
    const record = this.newDeviceRecord(poolId, device);
    try {
      const blockDevice = await this.prepareDevice(record);
      // -B: the job ends when the copy (or the rebuild of a missing device) has.
      await runCommand("btrfs", ["replace", "start", "-B", String(devid), blockDevice, mountPoint], { timeoutMs: COPY_COMMAND_MS });
    } catch (error) {
      await this.releaseDevice(record).catch(() => undefined);
      throw error;
    }
    // The new device keeps the old one's devid; a larger one counts in full only once grown.
    if (record.size > old.size) {
      await runCommand("btrfs", ["filesystem", "resize", `${devid}:max`, mountPoint], { timeoutMs: SLOW_COMMAND_MS }).catch(() => undefined);
    }
    await this.releaseDevice(old);
    return record;
  }

  async convertProfile(poolId: string, raid: RaidLevel, deviceCount: number, progress: ProgressReporter): Promise<void> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    // soft: chunks already in the new profile are skipped, so a retry after a failure only does the rest.
    const balance = runCommand("btrfs", [
      "balance", "start", `-dconvert=${raid},soft`, `-mconvert=${metadataProfile(raid, deviceCount)},soft`, mountPoint,
    ], { timeoutMs: COPY_COMMAND_MS });
    const watcher = setInterval(() => {
      // status exits 1 while a balance runs: its report is then in the failure's stdout.
      void runCommand("btrfs", ["balance", "status", mountPoint], { timeoutMs: 5_000 })
        .then(({ stdout }) => stdout, (error: unknown) => (error instanceof CommandFailedError ? error.stdout : ""))
        .then((stdout) => {
          const fraction = balanceFraction(stdout);
          if (fraction !== undefined) progress(fraction);
        });
    }, BALANCE_POLL_MS);
    try {
      await balance;
    } finally {
      clearInterval(watcher);
    }
  }

  async restoreProfile(poolId: string, raid: RaidLevel, deviceCount: number): Promise<void> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    // Chunks written while degraded were made "single"; soft skips those already in profile.
    await runCommand("btrfs", [
      "balance", "start", `-dconvert=${raid},soft`, `-mconvert=${metadataProfile(raid, deviceCount)},soft`, mountPoint,
    ], { timeoutMs: COPY_COMMAND_MS });
  }

  async reconcileDevices(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolDeviceRecord[]> {
    this.healthReadings.delete(poolId);
    const mountPoint = await this.requireMounted(poolId);
    const members = await this.members(mountPoint);
    const memberPaths = new Set(members.filter((m) => m.path !== undefined).map((m) => m.path));
    const someMissing = members.some((m) => m.path === undefined);
    const kept: PoolDeviceRecord[] = [];
    const claimed = new Set<string>();
    for (const record of devices) {
      const blockDevices = await this.blockDevicesOf(record);
      const member = blockDevices.find((device) => memberPaths.has(device));
      if (member !== undefined) claimed.add(member);
      // Not a member while nothing is missing: a remove or replace finished before its record.
      if (member !== undefined || someMissing) kept.push(record);
      else await this.releaseDevice(record);
    }
    for (const image of await this.strayImages(poolId, devices)) {
      const member = (await this.loopsOf(image)).find((loop) => memberPaths.has(loop));
      if (member === undefined) {
        // An add or replace that never reached btrfs.
        await this.releaseDevice({ deviceId: "", type: "image_file", path: image, size: 0 });
        continue;
      }
      claimed.add(member);
      kept.push({ deviceId: path.basename(image, ".img"), type: "image_file", path: image, size: (await stat(image)).size });
    }
    for (const member of members) {
      if (member.path === undefined || claimed.has(member.path) || member.path.startsWith("/dev/loop")) continue;
      kept.push({ deviceId: randomUUID().replaceAll("-", ""), type: "block_device", path: member.path, size: await this.blockDeviceSize(member.path) });
    }
    return kept;
  }

  /** Image files in the pool's image directory that no record names. */
  private async strayImages(poolId: string, devices: PoolDeviceRecord[]): Promise<string[]> {
    const recorded = new Set(devices.map((d) => d.path));
    const dir = this.imageDir(poolId);
    const names = await readdir(dir).catch(() => []);
    return names.filter((name) => name.endsWith(".img")).map((name) => path.join(dir, name)).filter((image) => !recorded.has(image));
  }

  /** The block devices btrfs knows a record by: its loop devices, or the block device itself. */
  private async blockDevicesOf(record: PoolDeviceRecord): Promise<string[]> {
    if (record.type === "image_file") return this.loopsOf(record.path);
    return [...new Set([record.path, await realpath(record.path).catch(() => record.path)])];
  }

  /** btrfs's members of a mounted pool: devid and block device (undefined when missing). */
  private async members(mountPoint: string): Promise<Array<{ devid: number; path: string | undefined }>> {
    const { stdout } = await runCommand("btrfs", ["filesystem", "show", "--raw", mountPoint]);
    return [...stdout.matchAll(/^\s*devid\s+(\d+)\s.*\spath\s+(\S+)/gm)].map((m) => {
      const device = m[2] ?? "";
      return { devid: Number(m[1]), path: device.startsWith("/dev/") ? device : undefined };
    });
  }

  private newDeviceRecord(poolId: string, device: DeviceSpec): PoolDeviceRecord {
    const deviceId = randomUUID().replaceAll("-", "");
    return device.type === "image_file"
      ? { deviceId, type: "image_file", path: path.join(this.imageDir(poolId), `${deviceId}.img`), size: device.size }
      : { deviceId, type: "block_device", path: device.path, size: 0 };
  }

  /** Makes an image file and its loop device, or sizes a block device; returns the device to give btrfs. */
  private async prepareDevice(record: PoolDeviceRecord): Promise<string> {
    if (record.type === "block_device") {
      record.size = await this.blockDeviceSize(record.path);
      return record.path;
    }
    await mkdir(path.dirname(record.path), { recursive: true });
    // Sparse: the pool takes host space only as data is written.
    await runCommand("truncate", ["-s", String(record.size), record.path]);
    return this.attachLoop(record.path);
  }

  /** Detaches and deletes an image file (a block device is left as btrfs left it). */
  private async releaseDevice(record: PoolDeviceRecord): Promise<void> {
    if (record.type !== "image_file") return;
    for (const loop of await this.loopsOf(record.path)) await runCommand("losetup", ["-d", loop]);
    await rm(record.path, { force: true });
  }

  private async requireMounted(poolId: string): Promise<string> {
    const mountPoint = this.mountPoint(poolId);
    if (!(await this.isMounted(mountPoint))) throw new InvalidPoolRequestError(`pool ${poolId} is not mounted`);
    return mountPoint;
  }

  /**
   * btrfs's device ids of the given records. A present device is found by its block device; a
   * missing one takes one of the ids btrfs lists as missing (which lost device is which cannot
   * be told, and makes no difference: every missing device's data is rebuilt from the others).
   */
  private async devidsOf(mountPoint: string, wanted: PoolDeviceRecord[], all: PoolDeviceRecord[]): Promise<number[]> {
    const members = await this.members(mountPoint);
    const byPath = new Map(members.flatMap((m) => (m.path === undefined ? [] : [[m.path, m.devid] as const])));
    const missingDevids = members.filter((m) => m.path === undefined).map((m) => m.devid);
    const located = new Map<string, number>();
    const lost: PoolDeviceRecord[] = [];
    for (const record of all) {
      const devid = (await this.blockDevicesOf(record)).map((device) => byPath.get(device)).find((id) => id !== undefined);
      if (devid === undefined) lost.push(record);
      else located.set(record.deviceId, devid);
    }
    lost.forEach((record, i) => {
      const devid = missingDevids[i];
      if (devid !== undefined) located.set(record.deviceId, devid);
    });
    return wanted.map((record) => {
      const devid = located.get(record.deviceId);
      if (devid === undefined) throw new InvalidPoolRequestError(`device ${record.deviceId} (${record.path}) is not part of the mounted pool`);
      return devid;
    });
  }

  /** Unmounts, detaches loops, deletes the image files and the pool's empty directories. */
  private async removeImages(poolId: string, devices: PoolDeviceRecord[]): Promise<void> {
    await this.detachPool(poolId, devices);
    for (const device of devices) if (device.type === "image_file") await rm(device.path, { force: true });
    await rmdir(this.imageDir(poolId)).catch(() => undefined);
    await rmdir(this.mountPoint(poolId)).catch(() => undefined);
  }

  /**
   * Usable bytes after redundancy: btrfs's own "Free (estimated)" (unallocated space divided by
   * the data ratio, plus free space inside data chunks) plus the data already stored (logical
   * bytes). Metadata lives in its own chunks and is not counted in either.
   */
  /**
   * statfs(2) rather than `btrfs filesystem usage`: btrfs answers it from in-memory counters with
   * the data profile's redundancy already applied (its f_bavail is the same estimate as "Free
   * (estimated)"), in microseconds instead of a process start per pool reply.
   */
  hostSpace(): Promise<HostSpace> {
    return readHostSpace(this.stateDir);
  }

  async usage(poolId: string): Promise<PoolUsage> {
    const fsStats = await statfs(this.mountPoint(poolId));
    // Usable = what is used plus what can still be written (space btrfs reserves is neither).
    const usedBytes = (fsStats.blocks - fsStats.bfree) * fsStats.bsize;
    const freeBytes = fsStats.bavail * fsStats.bsize;
    return { totalBytes: usedBytes + freeBytes, usedBytes, freeBytes };
  }

  /**
   * Health takes three commands plus a losetup per device; pool replies are polled often (stats)
   * while error counters and device presence change rarely, so a reading serves for a moment.
   */
  ioCounters(poolId: string): Promise<BlockIoCounters> {
    return mountedBlockIoCounters(this.mountPoint(poolId));
  }

  async health(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolHealth> {
    const cached = this.healthReadings.get(poolId);
    if (cached !== undefined && Date.now() - cached.at < HEALTH_READING_TTL_MS) return cached.health;
    const health = await this.readHealth(poolId, devices);
    this.healthReadings.set(poolId, { at: Date.now(), health });
    return health;
  }

  private async readHealth(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolHealth> {
    const mountPoint = this.mountPoint(poolId);
    if (!(await this.isMounted(mountPoint))) {
      return { state: "Offline", devices: devices.map((device) => this.deviceHealth(device, existsSync(device.path), undefined)) };
    }
    const { stdout } = await runCommand("btrfs", ["device", "stats", mountPoint]).catch((error: unknown) => {
      // Exit status 64 means "some counter is non-zero"; the output is still complete.
      if (error instanceof CommandFailedError && error.stdout) return { stdout: error.stdout };
      throw error;
    });
    const stats = parseDeviceStats(stdout);
    const { stdout: show } = await runCommand("btrfs", ["filesystem", "show", mountPoint]);
    const hasMissing = /\*\*\* Some devices missing|<missing disk>|MISSING/i.test(show);
    const result: DeviceHealth[] = [];
    for (const device of devices) {
      const blockDevice = device.type === "image_file" ? (await this.loopsOf(device.path))[0] : device.path;
      const present = blockDevice !== undefined && existsSync(device.path) && stats.has(blockDevice);
      result.push(this.deviceHealth(device, present, blockDevice === undefined ? undefined : stats.get(blockDevice)));
    }
    const degraded = hasMissing || result.some((device) => !device.present);
    return { state: degraded ? "Degraded" : "Online", devices: result };
  }

  // ------------------------------------------------------------------ volumes and snapshots

  async createVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean, compression: Compression): Promise<void> {
    const dir = this.volumeDir(poolId, volumeId);
    const data = path.join(dir, "data");
    if (existsSync(data)) {
      // A retried create finds what the interrupted one made.
      if ((await stat(data)).size === sizeBytes) return;
      throw new InvalidPoolRequestError(`volume ${volumeId} already exists in pool ${poolId} with another size`);
    }
    if (!existsSync(dir)) await runCommand("btrfs", ["subvolume", "create", dir]);
    try {
      // Set before the file exists: the property is inherited by files created in the directory.
      if (compression !== "none") await runCommand("btrfs", ["property", "set", dir, "compression", compression]);
      if (thin) await runCommand("truncate", ["-s", String(sizeBytes), data]);
      else await runCommand("fallocate", ["-l", String(sizeBytes), data], { timeoutMs: SLOW_COMMAND_MS });
    } catch (error) {
      await this.deleteSubvolume(dir).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The property on the data file governs its next writes; the directory's is set too, so the
   * file a rollback or swap puts there inherits it. An empty value resets both to the mount's.
   */
  async setVolumeCompression(poolId: string, volumeId: string, compression: Compression): Promise<void> {
    const value = compression === "none" ? "" : compression;
    for (const target of [this.volumeDir(poolId, volumeId), this.volumeDataPath(poolId, volumeId)]) {
      await runCommand("btrfs", ["property", "set", target, "compression", value]);
    }
  }

  async setProvisioning(poolId: string, volumeId: string, thin: boolean): Promise<void> {
    const data = this.volumeDataPath(poolId, volumeId);
    if (thin) {
      // --dig-holes only finds written zeros; preallocated (unwritten) extents are punched by range.
      const { stdout } = await runCommand("filefrag", ["-v", data], { timeoutMs: SLOW_COMMAND_MS });
      for (const range of unwrittenRanges(stdout)) {
        await runCommand("fallocate", ["--punch-hole", "-o", String(range.offset), "-l", String(range.length), data], { timeoutMs: SLOW_COMMAND_MS });
      }
      await runCommand("fallocate", ["--dig-holes", data], { timeoutMs: COPY_COMMAND_MS });
      return;
    }
    // Mode 0 over the whole length allocates only the holes; written blocks are left as they are.
    const { size } = await stat(data);
    await runCommand("fallocate", ["-l", String(size), data], { timeoutMs: COPY_COMMAND_MS });
  }

  async resizeVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean): Promise<void> {
    const data = this.volumeDataPath(poolId, volumeId);
    const current = (await this.statVolume(poolId, volumeId, data)).size;
    if (sizeBytes < current) throw new InvalidPoolRequestError(`volume ${volumeId} cannot shrink from ${current} to ${sizeBytes} bytes`);
    if (sizeBytes === current) return;
    await this.growFile(data, current, sizeBytes, thin);
  }

  async deleteVolume(poolId: string, volumeId: string): Promise<void> {
    await this.deleteSubvolume(this.volumeDir(poolId, volumeId));
  }

  async createSnapshot(poolId: string, volumeId: string, snapshotId: string): Promise<void> {
    const source = this.volumeDir(poolId, volumeId);
    await this.statVolume(poolId, volumeId, source);
    await runCommand("btrfs", ["subvolume", "snapshot", "-r", source, this.snapshotDir(poolId, snapshotId)]);
  }

  async deleteSnapshot(poolId: string, snapshotId: string): Promise<void> {
    await this.deleteSubvolume(this.snapshotDir(poolId, snapshotId));
  }

  async volumeFromSnapshot(poolId: string, snapshotId: string, newVolumeId: string): Promise<void> {
    const source = this.snapshotDir(poolId, snapshotId);
    if (!existsSync(source)) throw new VolumeNotFoundError(`snapshot ${snapshotId} not found in pool ${poolId}`);
    await runCommand("btrfs", ["subvolume", "snapshot", source, this.volumeDir(poolId, newVolumeId)]);
  }

  async volumeFromVolume(poolId: string, sourceVolumeId: string, newVolumeId: string): Promise<void> {
    const source = this.volumeDir(poolId, sourceVolumeId);
    await this.statVolume(poolId, sourceVolumeId, source);
    await runCommand("btrfs", ["subvolume", "snapshot", source, this.volumeDir(poolId, newVolumeId)]);
  }

  async copyAcrossPools(source: { poolId: string; path: string }, targetPoolId: string, newVolumeId: string): Promise<void> {
    const dir = this.volumeDir(targetPoolId, newVolumeId);
    await runCommand("btrfs", ["subvolume", "create", dir]);
    try {
      // Holes stay holes: a thin source stays thin in the other pool.
      await runCommand("cp", ["--sparse=always", "--reflink=never", source.path, path.join(dir, "data")], { timeoutMs: COPY_COMMAND_MS });
    } catch (error) {
      await this.deleteSubvolume(dir).catch(() => undefined);
      throw error;
    }
  }

  async rollbackVolume(poolId: string, volumeId: string, snapshotId: string, mode: RollbackMode): Promise<void> {
    const data = this.volumeDataPath(poolId, volumeId);
    const current = await this.statVolume(poolId, volumeId, data);
    const snapshotData = this.snapshotDataPath(poolId, snapshotId);
    if (!existsSync(snapshotData)) throw new VolumeNotFoundError(`snapshot ${snapshotId} not found in pool ${poolId}`);
    if (mode === "in-place") await this.rollbackInPlace(snapshotData, data, current);
    else await this.rollbackBySwap(poolId, volumeId, snapshotId, current);
  }

  /**
   * cp opens the existing file with O_TRUNC and clones the snapshot's extents into it (FICLONE):
   * the inode stays, so a tgtd holding the file open serves the snapshot's data at once. A volume
   * that grew after the snapshot keeps its current size (the tail reads as zeros), so an
   * initiator never sees its disk shrink.
   */
  private async rollbackInPlace(snapshotData: string, data: string, current: FileSize): Promise<void> {
    const snapshotSize = (await stat(snapshotData)).size;
    await runCommand("cp", ["--reflink=always", "--sparse=auto", snapshotData, data], { timeoutMs: SLOW_COMMAND_MS });
    await this.keepGrownSize(data, snapshotSize, current);
  }

  /**
   * A writable snapshot of the snapshot is staged beside the volume, then takes the volume's
   * name: two renames and one tree-root copy, whatever the data's size or extent count. The old
   * subvolume is renamed aside first, so a crash between the renames leaves something
   * repairInterruptedRollbacks can put back.
   */
  private async rollbackBySwap(poolId: string, volumeId: string, snapshotId: string, current: FileSize): Promise<void> {
    const { live, staged, retired } = this.rollbackPaths(poolId, volumeId);
    await this.deleteSubvolume(staged);
    await runCommand("btrfs", ["subvolume", "snapshot", this.snapshotDir(poolId, snapshotId), staged]);
    try {
      const stagedData = path.join(staged, "data");
      await this.keepGrownSize(stagedData, (await stat(stagedData)).size, current);
      await rename(live, retired);
    } catch (error) {
      await this.deleteSubvolume(staged).catch(() => undefined);
      throw error;
    }
    try {
      await rename(staged, live);
    } catch (error) {
      await rename(retired, live);
      await this.deleteSubvolume(staged).catch(() => undefined);
      throw error;
    }
    // Nothing needs the old data's space back at once: btrfs's cleaner frees it at its next commit.
    await runCommand("btrfs", ["subvolume", "delete", retired], { timeoutMs: SLOW_COMMAND_MS });
  }

  async repairInterruptedRollbacks(poolId: string): Promise<string[]> {
    const volumesDir = path.join(this.mountPoint(poolId), "volumes");
    const repaired: string[] = [];
    for (const name of await readdir(volumesDir).catch(() => [])) {
      const match = /^\.(rollback|retired)-(.+)$/.exec(name);
      const volumeId = match?.[2];
      if (volumeId === undefined) continue;
      const { live, staged, retired } = this.rollbackPaths(poolId, volumeId);
      if (match?.[1] === "retired" && !existsSync(live)) {
        // Cut between the two renames: the volume goes back to its data before the rollback.
        await rename(retired, live);
        repaired.push(`volume ${volumeId} (rollback undone)`);
      } else {
        await this.deleteSubvolume(match?.[1] === "retired" ? retired : staged);
        repaired.push(`volume ${volumeId} (rollback leftover removed)`);
      }
    }
    return repaired;
  }

  private rollbackPaths(poolId: string, volumeId: string): { live: string; staged: string; retired: string } {
    const live = this.volumeDir(poolId, volumeId);
    const parent = path.dirname(live);
    return { live, staged: path.join(parent, `.rollback-${volumeId}`), retired: path.join(parent, `.retired-${volumeId}`) };
  }

  /** A volume that grew after the snapshot keeps its size: an initiator never sees its disk shrink. */
  private async keepGrownSize(data: string, snapshotSize: number, current: FileSize): Promise<void> {
    if (current.size <= snapshotSize) return;
    const thin = current.blocks * 512 < current.size;
    await this.growFile(data, snapshotSize, current.size, thin);
  }

  async volumeSizeBytes(poolId: string, volumeId: string): Promise<number> {
    return (await this.statVolume(poolId, volumeId, this.volumeDataPath(poolId, volumeId))).size;
  }

  async allocatedBytes(poolId: string, volumeId: string): Promise<number> {
    const data = this.volumeDataPath(poolId, volumeId);
    return (await this.statVolume(poolId, volumeId, data)).blocks * 512;
  }

  async listOnDisk(poolId: string): Promise<{ volumes: string[]; snapshots: string[] }> {
    const root = this.mountPoint(poolId);
    const list = async (dir: string): Promise<string[]> =>
      (await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    return { volumes: await list("volumes"), snapshots: await list("snapshots") };
  }

  // ------------------------------------------------------------------ images

  imageLibraryPath(poolId: string): string {
    return path.join(this.mountPoint(poolId), "images");
  }

  scratchDirectory(poolId: string): string {
    return path.join(this.mountPoint(poolId), "scratch");
  }

  scratchPath(poolId: string, name: string): string {
    return path.join(this.scratchDirectory(poolId), `.${checkId("scratch file", name)}.partial`);
  }

  async volumeFromFill(
    poolId: string, volumeId: string, spec: { sizeBytes: number; thin: boolean; compression: Compression },
    fill: (dataPath: string) => Promise<void>,
  ): Promise<void> {
    const dir = this.volumeDir(poolId, volumeId);
    const data = path.join(dir, "data");
    await mkdir(this.scratchDirectory(poolId), { recursive: true });
    await runCommand("btrfs", ["subvolume", "create", dir]);
    try {
      if (spec.compression !== "none") await runCommand("btrfs", ["property", "set", dir, "compression", spec.compression]);
      await fill(data);
      const filled = (await stat(data)).size;
      if (filled > spec.sizeBytes) throw new InvalidPoolRequestError(`the image's data (${filled} bytes) is larger than the volume (${spec.sizeBytes} bytes)`);
      if (filled < spec.sizeBytes) await truncate(data, spec.sizeBytes);
      // Thick: the holes the image left get their blocks too (data already written is untouched).
      if (!spec.thin) await runCommand("fallocate", ["-l", String(spec.sizeBytes), data], { timeoutMs: SLOW_COMMAND_MS });
    } catch (error) {
      await this.deleteSubvolume(dir).catch(() => undefined);
      throw error;
    }
  }

  // ------------------------------------------------------------------ internals

  private async statVolume(poolId: string, volumeId: string, file: string): Promise<FileSize> {
    try {
      return await stat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new VolumeNotFoundError(`volume ${volumeId} not found in pool ${poolId}`);
      throw error;
    }
  }

  private async growFile(file: string, from: number, to: number, thin: boolean): Promise<void> {
    if (thin) await truncate(file, to);
    else await runCommand("fallocate", ["-o", String(from), "-l", String(to - from), file], { timeoutMs: SLOW_COMMAND_MS });
  }

  /**
   * btrfs gives a deleted subvolume's space back lazily: its cleaner starts on a commit (otherwise
   * the next periodic one, up to 30 s away) and the extents it frees count once committed again.
   * This waits for both, so a create refused for space right after deletes can look again.
   */
  async reclaimFreedSpace(poolId: string): Promise<void> {
    const mountPoint = this.mountPoint(poolId);
    for (const args of [["filesystem", "sync"], ["subvolume", "sync"], ["filesystem", "sync"]]) {
      await runCommand("btrfs", [...args, mountPoint], { timeoutMs: SLOW_COMMAND_MS }).catch(() => undefined);
    }
  }

  private async deleteSubvolume(dir: string): Promise<void> {
    if (!existsSync(dir)) return;
    // The commit starts btrfs's cleaner now rather than at the next periodic commit (up to 30 s):
    // without it, writes to other volumes of a full pool fail with ENOSPC for that long after a
    // delete freed plenty of space.
    await runCommand("btrfs", ["subvolume", "delete", "--commit-after", dir], { timeoutMs: SLOW_COMMAND_MS });
  }

  private async attachLoop(imagePath: string): Promise<string> {
    const args = ["--find", "--show", ...(this.loopDirectIo ? ["--direct-io=on"] : []), imagePath];
    const { stdout } = await runCommand("losetup", args);
    return stdout.trim();
  }

  /** Loop devices backed by the file (normally one). */
  private async loopsOf(imagePath: string): Promise<string[]> {
    if (!existsSync(imagePath)) return [];
    const { stdout } = await runCommand("losetup", ["--list", "--noheadings", "--output", "NAME", "--associated", imagePath]);
    return stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("/dev/"));
  }

  /** A remount: btrfs applies the new compress option to writes from then on. */
  async setCompression(poolId: string, compression: Compression): Promise<void> {
    const option = compression === "none" ? "compress=no" : `compress=${compression}`;
    await runCommand("mount", ["-o", `remount,${option}`, this.mountPoint(poolId)], { timeoutMs: SLOW_COMMAND_MS });
  }

  private async blockDeviceSize(devicePath: string): Promise<number> {
    const { stdout } = await runCommand("blockdev", ["--getsize64", devicePath]);
    return Number(stdout.trim());
  }

  private async mount(mountPoint: string, blockDevices: string[], compression: Compression, degraded: boolean): Promise<void> {
    const [first] = blockDevices;
    if (first === undefined) throw new InvalidPoolRequestError("a pool needs at least one device");
    await mkdir(mountPoint, { recursive: true });
    // device= names every member, so a multi-device pool mounts without a prior `btrfs device scan`.
    const options = [mountOptions(compression), ...blockDevices.map((device) => `device=${device}`), ...(degraded ? ["degraded"] : [])];
    await runCommand("mount", ["-t", "btrfs", "-o", options.join(","), first, mountPoint], { timeoutMs: SLOW_COMMAND_MS });
  }

  private async isMounted(mountPoint: string): Promise<boolean> {
    const mounts = await readFile("/proc/self/mounts", "utf8");
    return mounts.split("\n").some((line) => line.split(" ")[1] === mountPoint);
  }

  private deviceHealth(device: PoolDeviceRecord, present: boolean, errors: DeviceHealth["errors"] | undefined): DeviceHealth {
    return {
      deviceId: device.deviceId,
      path: device.path,
      present,
      errors: errors ?? { read: 0, write: 0, flush: 0, corruption: 0, generation: 0 },
    };
  }
}

/** btrfs's primary superblock sits at 64 KiB; its magic is at offset 64 within it. */
const SUPERBLOCK_MAGIC_AT = 64 * 1024 + 64;
const SUPERBLOCK_MAGIC = "_BHRfS_M";

async function hasBtrfsSuperblock(devicePath: string): Promise<boolean> {
  const file = await open(devicePath, "r").catch(() => undefined);
  if (file === undefined) return false;
  try {
    const magic = Buffer.alloc(SUPERBLOCK_MAGIC.length);
    const { bytesRead } = await file.read(magic, 0, magic.length, SUPERBLOCK_MAGIC_AT);
    return bytesRead === magic.length && magic.toString("latin1") === SUPERBLOCK_MAGIC;
  } finally {
    await file.close();
  }
}

/** `[/dev/loop0].write_io_errs 0` lines → per-device counters. */
function parseDeviceStats(output: string): Map<string, DeviceHealth["errors"]> {
  const byDevice = new Map<string, DeviceHealth["errors"]>();
  const keys: Record<string, keyof DeviceHealth["errors"]> = {
    write_io_errs: "write",
    read_io_errs: "read",
    flush_io_errs: "flush",
    corruption_errs: "corruption",
    generation_errs: "generation",
  };
  for (const match of output.matchAll(/^\[([^\]]+)\]\.(\w+)\s+(\d+)/gm)) {
    const [, device, counter, value] = match;
    const key = counter === undefined ? undefined : keys[counter];
    if (device === undefined || key === undefined) continue;
    const errors = byDevice.get(device) ?? { read: 0, write: 0, flush: 0, corruption: 0, generation: 0 };
    errors[key] = Number(value);
    byDevice.set(device, errors);
  }
  return byDevice;
}
