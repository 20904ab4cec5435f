/**
 * How much room the host filesystem under the state directory has, and how much of it the sparse
 * image files of image-file pools (`<stateDir>/images/<pool id>/*.img`) may still take as their
 * pools fill: what the host must keep free so that no loop device ever meets ENOSPC.
 */
import { readdir, stat, statfs } from "node:fs/promises";
import path from "node:path";
import type { HostSpace } from "../../core/ports";

export async function readHostSpace(stateDir: string): Promise<HostSpace> {
  const fsStats = await statfs(stateDir);
  const unallocatedImageBytes: Record<string, number> = {};
  const imagesRoot = path.join(stateDir, "images");
  for (const poolId of await readdir(imagesRoot).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(imagesRoot, poolId)).catch(() => [] as string[])) {
      if (!name.endsWith(".img")) continue;
      // A file removed meanwhile (a pool being deleted) promises nothing any more.
      const file = await stat(path.join(imagesRoot, poolId, name)).catch(() => undefined);
      if (file === undefined) continue;
      unallocatedImageBytes[poolId] = (unallocatedImageBytes[poolId] ?? 0) + Math.max(0, file.size - file.blocks * 512);
    }
  }
  return { availableBytes: fsStats.bavail * fsStats.bsize, unallocatedImageBytes };
}
