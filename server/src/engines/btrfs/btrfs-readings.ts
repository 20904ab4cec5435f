/**
 * What btrfs's own tools answer, read into numbers and profiles: balance progress, the metadata
 * profile that goes with a data profile, superblocks on devices and per-device error counters.
 */
import { open } from "node:fs/promises";
import type { RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { DeviceHealth } from "../../core/ports";

/** "3 out of about 10 chunks balanced" (btrfs balance status) as 0.3; undefined when not running. */
export function balanceFraction(status: string): number | undefined {
  const match = /(\d+) out of about (\d+) chunks balanced/.exec(status);
  if (match === null) return undefined;
  const total = Number(match[2]);
  return total === 0 ? undefined : Math.min(1, Number(match[1]) / total);
}

/** Data profile → metadata profile: metadata is always at least as redundant as data. */
export function metadataProfile(raid: RaidLevel, deviceCount: number): string {
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
export const MIN_DEVICES: Record<RaidLevel, number> = { single: 1, raid0: 2, raid1: 2, raid10: 2, raid1c3: 3, raid5: 2, raid6: 3 };

/** btrfs's primary superblock sits at 64 KiB; its magic is at offset 64 within it. */
const SUPERBLOCK_MAGIC_AT = 64 * 1024 + 64;
const SUPERBLOCK_MAGIC = "_BHRfS_M";

export async function hasBtrfsSuperblock(devicePath: string): Promise<boolean> {
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
export function parseDeviceStats(output: string): Map<string, DeviceHealth["errors"]> {
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
