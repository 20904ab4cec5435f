/**
 * PoolEngine on btrfs: a pool is one btrfs filesystem over loop devices (image files under the
 * state dir) or block devices; a volume is a subvolume holding one file `data`; a snapshot is a
 * read-only subvolume snapshot. Snapshot and clone cost the same whatever a volume holds (a
 * subvolume snapshot copies one tree root); rollback reflinks the snapshot's file over the volume's
 * file in place.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, rmdir, stat, statfs, truncate } from "node:fs/promises";
import path from "node:path";
import type { Compression, RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { DeviceHealth, DeviceSpec, PoolDeviceRecord, PoolEngine, PoolHealth, PoolUsage } from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";

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
  }
}

// btrfs-progs 6 accepts raid10 on two devices; raid0 on one would stripe nothing.
const MIN_DEVICES: Record<RaidLevel, number> = { single: 1, raid0: 2, raid1: 2, raid10: 2, raid1c3: 3 };

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
    const imageDir = this.imageDir(poolId);
    const records: PoolDeviceRecord[] = devices.map((device) => {
      const deviceId = randomUUID().replaceAll("-", "");
      return device.type === "image_file"
        ? { deviceId, type: "image_file", path: path.join(imageDir, `${deviceId}.img`), size: device.size }
        : { deviceId, type: "block_device", path: device.path, size: 0 };
    });
    try {
      const blockDevices: string[] = [];
      for (const record of records) {
        if (record.type === "image_file") {
          await mkdir(imageDir, { recursive: true });
          // Sparse: the pool takes host space only as data is written.
          await runCommand("truncate", ["-s", String(record.size), record.path]);
          blockDevices.push(await this.attachLoop(record.path));
        } else {
          record.size = await this.blockDeviceSize(record.path);
          blockDevices.push(record.path);
        }
      }
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
      if (!existsSync(device.path)) {
        missing += 1;
        continue;
      }
      blockDevices.push(device.type === "image_file" ? ((await this.loopsOf(device.path))[0] ?? (await this.attachLoop(device.path))) : device.path);
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

  /**
   * cp opens the existing file with O_TRUNC and clones the snapshot's extents into it (FICLONE):
   * the inode stays, so a tgtd holding the file open serves the snapshot's data at once. A volume
   * that grew after the snapshot keeps its current size (the tail reads as zeros), so an
   * initiator never sees its disk shrink.
   */
  async rollbackVolume(poolId: string, volumeId: string, snapshotId: string): Promise<void> {
    const data = this.volumeDataPath(poolId, volumeId);
    const snapshotData = this.snapshotDataPath(poolId, snapshotId);
    const current = await this.statVolume(poolId, volumeId, data);
    if (!existsSync(snapshotData)) throw new VolumeNotFoundError(`snapshot ${snapshotId} not found in pool ${poolId}`);
    const snapshotSize = (await stat(snapshotData)).size;
    await runCommand("cp", ["--reflink=always", "--sparse=auto", snapshotData, data], { timeoutMs: SLOW_COMMAND_MS });
    if (current.size > snapshotSize) {
      const thin = current.blocks * 512 < current.size;
      await this.growFile(data, snapshotSize, current.size, thin);
    }
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

  private async statVolume(poolId: string, volumeId: string, file: string): Promise<{ size: number; blocks: number }> {
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
