/**
 * Block I/O counters of a mounted btrfs filesystem's devices, read from sysfs: the mount's source
 * device in /proc/self/mountinfo names the filesystem, /sys/fs/btrfs/<fsid>/devices/ lists all of
 * its devices (loop devices for image-file pools), and /sys/class/block/<dev>/stat counts each.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { BlockIoCounters } from "../../core/ports";

/** The kernel counts block I/O in 512-byte sectors whatever the device's sector size. */
const SECTOR_BYTES = 512;

/** The device the filesystem mounted at `mountPoint` was mounted from ("loop3"), if mounted. */
async function mountSource(mountPoint: string): Promise<string | undefined> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  for (const line of mountinfo.split("\n")) {
    const [mounts, fs] = line.split(" - ");
    if (mounts === undefined || fs === undefined) continue;
    // Spaces in paths are octal-escaped (\040) in mountinfo.
    const mountedAt = mounts.split(" ")[4]?.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const [fsType, source] = fs.split(" ");
    if (mountedAt === mountPoint && fsType === "btrfs" && source !== undefined) return path.basename(source);
  }
  return undefined;
}

/** Every device of the btrfs filesystem that has `device` among its devices. */
async function filesystemDevices(device: string): Promise<string[]> {
  for (const fsid of await readdir("/sys/fs/btrfs")) {
    const devices = await readdir(path.join("/sys/fs/btrfs", fsid, "devices")).catch((): string[] => []);
    if (devices.includes(device)) return devices;
  }
  return [device];
}

export function parseBlockStat(text: string): BlockIoCounters {
  const f = text.trim().split(/\s+/).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  return { readOps: at(0), readBytes: at(2) * SECTOR_BYTES, readMs: at(3), writeOps: at(4), writeBytes: at(6) * SECTOR_BYTES, writeMs: at(7) };
}

export async function mountedBlockIoCounters(mountPoint: string): Promise<BlockIoCounters> {
  const total: BlockIoCounters = { readOps: 0, readBytes: 0, readMs: 0, writeOps: 0, writeBytes: 0, writeMs: 0 };
  const source = await mountSource(mountPoint);
  if (source === undefined) return total;
  for (const device of await filesystemDevices(source)) {
    const counters = parseBlockStat(await readFile(path.join("/sys/class/block", device, "stat"), "utf8"));
    for (const key of Object.keys(total) as (keyof BlockIoCounters)[]) total[key] += counters[key];
  }
  return total;
}
