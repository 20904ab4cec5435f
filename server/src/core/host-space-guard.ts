/**
 * Image-file pools are sparse files on the host filesystem that also holds metadata.db. Should
 * that filesystem fill, their loop devices return EIO (btrfs turns read-only) and SQLite writes
 * fail. So what the host cannot hold is refused up front: every image-file pool must be able to
 * fill up completely, and a floor stays free for the metadata besides.
 */
import type { DeviceRequest } from "./commands";
import type { CoreContext } from "./context";
import { DomainError } from "./domain-error";
import type { PoolRecord } from "./records";

export const DEFAULT_HOST_FREE_FLOOR_BYTES = 256 * 2 ** 20;

/**
 * Held from the host-space check to the creation of the image files it admitted, so two pools
 * made at once cannot both count the same free space.
 */
const HOST_SPACE_LOCK = "host-space";

/** Bytes of the image files a device list asks for. */
export function imageFileBytes(devices: readonly DeviceRequest[]): number {
  return devices.reduce((sum, device) => sum + (device.type === "image_file" ? device.size : 0), 0);
}

/** A job's lock keys, with the host-space lock added when the job makes image files. */
export function withHostSpaceLock(keys: string[], imageBytes: number): string[] {
  return imageBytes > 0 ? [...keys, HOST_SPACE_LOCK] : keys;
}

/** The field a refusal of new image files names: the size of the only image file, or the device list. */
export function imageSizeField(devices: readonly { type: string }[]): string {
  const images = devices.flatMap((device, i) => (device.type === "image_file" ? [i] : []));
  return images.length === 1 ? `devices.${String(images[0])}.size` : "devices";
}

const total = (values: number[]): number => values.reduce((sum, value) => sum + value, 0);

export class HostSpaceGuard {
  constructor(private readonly ctx: CoreContext) {}

  private get floorBytes(): number {
    return this.ctx.settings.hostFreeFloorBytes ?? DEFAULT_HOST_FREE_FLOOR_BYTES;
  }

  /** New image files of `bytes` in all (a pool made, a device added or replaced). */
  async requireRoomForImageFiles(bytes: number, field: string): Promise<void> {
    if (bytes === 0) return;
    const host = await this.ctx.poolEngine.hostSpace();
    const promised = total(Object.values(host.unallocatedImageBytes));
    if (bytes > host.availableBytes - this.floorBytes - promised) {
      throw new DomainError("INSUFFICIENT_CAPACITY",
        `image files of ${bytes} bytes do not fit on the server's filesystem: it has ${host.availableBytes} bytes free, of which the image files of existing pools may still take ${promised} and ${this.floorBytes} stay free for metadata`, field);
    }
  }

  /**
   * A thick allocation in an image-file pool: the pool's free space is not enough, its blocks must
   * also fit on the host beside what the other pools' image files may still take. This is what
   * reserves thick space: no later pool may count on those bytes.
   */
  async requireRoomForThick(pool: PoolRecord, bytes: number, field: string): Promise<void> {
    if (!pool.devices.some((device) => device.type === "image_file")) return;
    const host = await this.ctx.poolEngine.hostSpace();
    const promisedToOthers = total(Object.entries(host.unallocatedImageBytes).filter(([poolId]) => poolId !== pool.id).map(([, unallocated]) => unallocated));
    if (bytes > host.availableBytes - this.floorBytes - promisedToOthers) {
      throw new DomainError("INSUFFICIENT_CAPACITY",
        `a thick allocation of ${bytes} bytes in pool ${pool.id} does not fit on the server's filesystem, which holds the pool's image files: it has ${host.availableBytes} bytes free, of which other pools' image files may still take ${promisedToOthers} and ${this.floorBytes} stay free for metadata`, field);
    }
  }
}
