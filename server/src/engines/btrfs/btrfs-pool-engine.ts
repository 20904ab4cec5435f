/**
 * PoolEngine on btrfs: a pool is one btrfs filesystem over loop devices (image files under the
 * state dir) or block devices, mounted under the state dir; devices change in place (add,
 * remove, replace, profile conversion). Volumes and snapshots are BtrfsVolumeEngine's.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, realpath, rm, rmdir, stat, statfs } from "node:fs/promises";
import path from "node:path";
import type { Compression, RaidLevel } from "@prophetstor/dpl-provider/wire";
import type {
  BlockIoCounters, DeviceHealth, DeviceSpec, PoolDeviceRecord, HostSpace, PoolEngine, PoolHealth, PoolUsage, ProgressReporter,
} from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";
import { mountedBlockIoCounters } from "./block-io-counters";
import { BtrfsLayout, COPY_COMMAND_MS, InvalidPoolRequestError, SLOW_COMMAND_MS } from "./btrfs-layout";
import { balanceFraction, hasBtrfsSuperblock, metadataProfile, MIN_DEVICES, parseDeviceStats } from "./btrfs-readings";
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

const BALANCE_POLL_MS = 500;

function mountOptions(compression: Compression): string {
  return compression === "none" ? "noatime" : `noatime,compress=${compression}`;
}

const HEALTH_READING_TTL_MS = 1_000;

export class BtrfsPoolEngine implements PoolEngine {
  private readonly layout: BtrfsLayout;
  private readonly loopDirectIo: boolean;
  private readonly healthReadings = new Map<string, { at: number; health: PoolHealth }>();

  constructor(options: BtrfsPoolEngineOptions) {
    this.layout = new BtrfsLayout(options.stateDir);
    this.loopDirectIo = options.loopDirectIo ?? true;
  }

  imageDir(poolId: string): string {
    return this.layout.imageDir(poolId);
  }

  mountPoint(poolId: string): string {
    return this.layout.mountPoint(poolId);
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
    return readHostSpace(this.layout.stateDir);
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

  // ------------------------------------------------------------------ internals

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
