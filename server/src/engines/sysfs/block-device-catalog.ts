/**
 * BlockDeviceCatalog on sysfs: a device's size, model and rotational flag as the kernel exports
 * them under /sys/class/block/<name>/. Reading needs no privilege and runs no command.
 */
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { BlockDeviceCatalog, BlockDeviceFacts } from "../../core/ports";

/** sysfs counts a device's size in 512-byte sectors whatever its logical block size. */
const SECTOR_BYTES = 512;

async function readTrimmed(file: string): Promise<string | undefined> {
  return (await readFile(file, "utf8").catch(() => undefined))?.trim();
}

export class SysfsBlockDeviceCatalog implements BlockDeviceCatalog {
  constructor(private readonly sysfsRoot = "/sys/class/block") {}

  async describe(devicePath: string): Promise<BlockDeviceFacts | undefined> {
    // /dev/disk/by-id/... names are symlinks to the kernel's own name.
    const resolved = await realpath(devicePath).catch(() => undefined);
    if (resolved === undefined || !(await stat(resolved)).isBlockDevice()) return undefined;
    const dir = path.join(this.sysfsRoot, path.basename(resolved));
    const sectors = await readTrimmed(path.join(dir, "size"));
    if (sectors === undefined) return undefined;
    const rotational = await readTrimmed(path.join(dir, "queue", "rotational"));
    // Partitions keep their model on the parent disk.
    const model = (await readTrimmed(path.join(dir, "device", "model"))) ?? (await readTrimmed(path.join(dir, "..", "device", "model")));
    return {
      sizeBytes: Number(sectors) * SECTOR_BYTES,
      model: model === undefined || model === "" ? null : model,
      rotational: rotational === undefined ? null : rotational === "1",
    };
  }
}
