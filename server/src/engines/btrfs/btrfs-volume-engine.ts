/**
 * VolumeEngine on btrfs: a volume is a subvolume holding one file `data`; a snapshot is a
 * read-only subvolume snapshot. Snapshot and clone cost the same whatever a volume holds (a
 * subvolume snapshot copies one tree root); so does rollback by swap, while rollback in place
 * (exported volumes) reflinks the snapshot's file over the volume's and follows its extents.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, stat, truncate } from "node:fs/promises";
import path from "node:path";
import type { Compression } from "@prophetstor/dpl-provider/wire";
import type { LunBacking, RollbackMode, VolumeEngine } from "../../core/ports";
import { runCommand } from "../command";
import { BtrfsLayout, COPY_COMMAND_MS, deleteSubvolume, InvalidPoolRequestError, SLOW_COMMAND_MS, VolumeNotFoundError } from "./btrfs-layout";

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

interface FileSize {
  size: number;
  /** 512-byte blocks allocated (fewer than size / 512 for a thin file). */
  blocks: number;
}

export class BtrfsVolumeEngine implements VolumeEngine {
  private readonly layout: BtrfsLayout;

  constructor(options: { stateDir: string }) {
    this.layout = new BtrfsLayout(options.stateDir);
  }

  volumeDataPath(poolId: string, volumeId: string): string {
    return this.layout.volumeDataPath(poolId, volumeId);
  }

  lunBacking(poolId: string, volumeId: string): LunBacking {
    return { backingPath: this.volumeDataPath(poolId, volumeId) };
  }

  snapshotDataPath(poolId: string, snapshotId: string): string {
    return this.layout.snapshotDataPath(poolId, snapshotId);
  }

  imageLibraryPath(poolId: string): string {
    return this.layout.imageLibraryPath(poolId);
  }

  scratchDirectory(poolId: string): string {
    return this.layout.scratchDirectory(poolId);
  }

  scratchPath(poolId: string, name: string): string {
    return this.layout.scratchPath(poolId, name);
  }

  async createVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean, compression: Compression): Promise<void> {
    const dir = this.layout.volumeDir(poolId, volumeId);
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
      await deleteSubvolume(dir).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The property on the data file governs its next writes; the directory's is set too, so the
   * file a rollback or swap puts there inherits it. An empty value resets both to the mount's.
   */
  async setVolumeCompression(poolId: string, volumeId: string, compression: Compression): Promise<void> {
    const value = compression === "none" ? "" : compression;
    for (const target of [this.layout.volumeDir(poolId, volumeId), this.volumeDataPath(poolId, volumeId)]) {
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
    await deleteSubvolume(this.layout.volumeDir(poolId, volumeId));
  }

  async createSnapshot(poolId: string, volumeId: string, snapshotId: string): Promise<void> {
    const source = this.layout.volumeDir(poolId, volumeId);
    await this.statVolume(poolId, volumeId, source);
    await runCommand("btrfs", ["subvolume", "snapshot", "-r", source, this.layout.snapshotDir(poolId, snapshotId)]);
  }

  async deleteSnapshot(poolId: string, snapshotId: string): Promise<void> {
    await deleteSubvolume(this.layout.snapshotDir(poolId, snapshotId));
  }

  async volumeFromSnapshot(poolId: string, snapshotId: string, newVolumeId: string): Promise<void> {
    const source = this.layout.snapshotDir(poolId, snapshotId);
    if (!existsSync(source)) throw new VolumeNotFoundError(`snapshot ${snapshotId} not found in pool ${poolId}`);
    await runCommand("btrfs", ["subvolume", "snapshot", source, this.layout.volumeDir(poolId, newVolumeId)]);
  }

  async volumeFromVolume(poolId: string, sourceVolumeId: string, newVolumeId: string): Promise<void> {
    const source = this.layout.volumeDir(poolId, sourceVolumeId);
    await this.statVolume(poolId, sourceVolumeId, source);
    await runCommand("btrfs", ["subvolume", "snapshot", source, this.layout.volumeDir(poolId, newVolumeId)]);
  }

  async copyAcrossPools(source: { poolId: string; path: string }, targetPoolId: string, newVolumeId: string): Promise<void> {
    const dir = this.layout.volumeDir(targetPoolId, newVolumeId);
    await runCommand("btrfs", ["subvolume", "create", dir]);
    try {
      // Holes stay holes: a thin source stays thin in the other pool.
      await runCommand("cp", ["--sparse=always", "--reflink=never", source.path, path.join(dir, "data")], { timeoutMs: COPY_COMMAND_MS });
    } catch (error) {
      await deleteSubvolume(dir).catch(() => undefined);
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
    await deleteSubvolume(staged);
    await runCommand("btrfs", ["subvolume", "snapshot", this.layout.snapshotDir(poolId, snapshotId), staged]);
    try {
      const stagedData = path.join(staged, "data");
      await this.keepGrownSize(stagedData, (await stat(stagedData)).size, current);
      await rename(live, retired);
    } catch (error) {
      await deleteSubvolume(staged).catch(() => undefined);
      throw error;
    }
    try {
      await rename(staged, live);
    } catch (error) {
      await rename(retired, live);
      await deleteSubvolume(staged).catch(() => undefined);
      throw error;
    }
    // Nothing needs the old data's space back at once: btrfs's cleaner frees it at its next commit.
    await runCommand("btrfs", ["subvolume", "delete", retired], { timeoutMs: SLOW_COMMAND_MS });
  }

  async repairInterruptedRollbacks(poolId: string): Promise<string[]> {
    const volumesDir = path.join(this.layout.mountPoint(poolId), "volumes");
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
        await deleteSubvolume(match?.[1] === "retired" ? retired : staged);
        repaired.push(`volume ${volumeId} (rollback leftover removed)`);
      }
    }
    return repaired;
  }

  private rollbackPaths(poolId: string, volumeId: string): { live: string; staged: string; retired: string } {
    const live = this.layout.volumeDir(poolId, volumeId);
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
    const root = this.layout.mountPoint(poolId);
    const list = async (dir: string): Promise<string[]> =>
      (await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    return { volumes: await list("volumes"), snapshots: await list("snapshots") };
  }

  // ------------------------------------------------------------------ images

  async volumeFromFill(
    poolId: string, volumeId: string, spec: { sizeBytes: number; thin: boolean; compression: Compression },
    fill: (dataPath: string) => Promise<void>,
  ): Promise<void> {
    const dir = this.layout.volumeDir(poolId, volumeId);
    const data = path.join(dir, "data");
    await mkdir(this.layout.scratchDirectory(poolId), { recursive: true });
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
      await deleteSubvolume(dir).catch(() => undefined);
      throw error;
    }
  }

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
}
