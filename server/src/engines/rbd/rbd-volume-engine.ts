/**
 * Volumes of rbd pools: each volume is an RBD image (thin unless made thick), each snapshot an
 * RBD snapshot of its volume's image, kept protected so it can be cloned at any time. A volume
 * made from a snapshot is a copy-on-write clone of it; a clone of a volume is a clone of a
 * snapshot taken for it. Whatever would delete a parent first flattens its clones (their data
 * becomes their own), so no delete ever fails on, or breaks, another volume.
 */
import type { Compression } from "@prophetstor/dpl-provider/wire";
import { EngineError, type LunBacking, type RollbackMode, type VolumeEngine } from "../../core/ports";
import type { RbdCli } from "./rbd-cli";
import { RBD_SLOW_COMMAND_MS } from "./rbd-cli";
import { CLONE_SOURCE_PREFIX, RbdImages, type RbdPoolDirectory } from "./rbd-images";

const HEX_ID = /^[0-9a-f]{32}$/;

function btrfsOnly(what: string): never {
  throw new EngineError("INVALID_REQUEST", `${what} exists on btrfs pools only, not on rbd pools`);
}

const isProtected = (value: string | boolean | undefined): boolean => value === true || value === "true";

export class RbdVolumeEngine implements VolumeEngine {
  private readonly images: RbdImages;

  constructor(directory: RbdPoolDirectory) {
    this.images = new RbdImages(directory);
  }

  async createVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean, compression: Compression): Promise<void> {
    if (compression !== "none") btrfsOnly("per-volume compression");
    const cli = this.images.cli(poolId);
    const image = this.images.imageOf(poolId, volumeId);
    try {
      await cli.rbd(["create", "--size", `${sizeBytes}B`, ...(thin ? [] : ["--thick-provision"]), cli.spec(image)], RBD_SLOW_COMMAND_MS);
    } catch (error) {
      // A retry after a lost reply finds the image made: the same size is the same volume.
      const existing = await cli.info(image).catch(() => undefined);
      if (existing?.size !== sizeBytes) throw error;
    }
  }

  setVolumeCompression(_poolId: string, _volumeId: string, compression: Compression): Promise<void> {
    if (compression !== "none") btrfsOnly("per-volume compression");
    return Promise.resolve();
  }

  setProvisioning(): Promise<void> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "an RBD image's provisioning is fixed when it is made"));
  }

  async resizeVolume(poolId: string, volumeId: string, sizeBytes: number): Promise<void> {
    const cli = this.images.cli(poolId);
    const image = this.images.imageOf(poolId, volumeId);
    const { size } = await cli.info(image);
    if (sizeBytes < size) throw new EngineError("INVALID_REQUEST", `volume ${volumeId} cannot shrink from ${size} to ${sizeBytes} bytes`);
    if (sizeBytes > size) await cli.rbd(["resize", "--size", `${sizeBytes}B`, cli.spec(image)], RBD_SLOW_COMMAND_MS);
  }

  async deleteVolume(poolId: string, volumeId: string): Promise<void> {
    const cli = this.images.cli(poolId);
    const image = this.images.imageOf(poolId, volumeId);
    const snapshots = await cli.snapshots(image).catch((error: unknown) => {
      if (error instanceof EngineError && error.code === "NOT_FOUND") return undefined;
      throw error;
    });
    if (snapshots === undefined) return;
    for (const snapshot of snapshots) await this.removeSnapshot(cli, image, snapshot.name, isProtected(snapshot.protected));
    const parent = (await cli.info(image)).parent;
    await cli.rbd(["rm", "--no-progress", cli.spec(image)], RBD_SLOW_COMMAND_MS).catch(ignoreMissing);
    // The snapshot a clone of a volume was made from served only this clone: it goes with it.
    if (parent?.snapshot.startsWith(CLONE_SOURCE_PREFIX) === true && parent.pool === cli.connection.rbdPool) {
      await this.removeSnapshot(cli, parent.image, parent.snapshot, true).catch(ignoreMissing);
    }
  }

  async createSnapshot(poolId: string, volumeId: string, snapshotId: string): Promise<void> {
    await this.protectedSnapshot(this.images.cli(poolId), this.images.imageOf(poolId, volumeId), snapshotId);
  }

  async deleteSnapshot(poolId: string, snapshotId: string): Promise<void> {
    const cli = this.images.cli(poolId);
    const image = await this.imageHolding(poolId, cli, snapshotId);
    if (image === undefined) return;
    const snapshot = (await cli.snapshots(image).catch(() => [])).find((s) => s.name === snapshotId);
    if (snapshot !== undefined) await this.removeSnapshot(cli, image, snapshotId, isProtected(snapshot.protected));
  }

  async volumeFromSnapshot(poolId: string, snapshotId: string, newVolumeId: string): Promise<void> {
    const cli = this.images.cli(poolId);
    const image = await this.imageHolding(poolId, cli, snapshotId);
    if (image === undefined) throw new EngineError("NOT_FOUND", `snapshot ${snapshotId} is in no image of pool ${poolId}`);
    await this.clone(cli, image, snapshotId, this.images.imageOf(poolId, newVolumeId));
  }

  async volumeFromVolume(poolId: string, sourceVolumeId: string, newVolumeId: string): Promise<void> {
    const cli = this.images.cli(poolId);
    const source = this.images.imageOf(poolId, sourceVolumeId);
    const snapshot = `${CLONE_SOURCE_PREFIX}${newVolumeId}`;
    await this.protectedSnapshot(cli, source, snapshot);
    await this.clone(cli, source, snapshot, this.images.imageOf(poolId, newVolumeId));
  }

  copyAcrossPools(): Promise<void> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "volumes are not copied between an rbd pool and another pool"));
  }

  /**
   * `rbd snap rollback` writes the snapshot's data back into the image (its cost follows the
   * image's objects, in either mode) and sets the image to the snapshot's size: a volume that
   * grew since gets its size back right after. No one may hold the image open meanwhile (core
   * closes an exported volume's LUN first).
   */
  async rollbackVolume(poolId: string, volumeId: string, snapshotId: string, _mode: RollbackMode): Promise<void> {
    const cli = this.images.cli(poolId);
    const image = this.images.imageOf(poolId, volumeId);
    const { size } = await cli.info(image);
    await cli.rbd(["snap", "rollback", "--no-progress", cli.spec(image, snapshotId)], RBD_SLOW_COMMAND_MS);
    await this.resizeVolume(poolId, volumeId, size);
  }

  /** A rollback is one rbd command that Ceph either finishes or not: nothing is left half swapped. */
  repairInterruptedRollbacks(): Promise<string[]> {
    return Promise.resolve([]);
  }

  lunBacking(poolId: string, volumeId: string): LunBacking {
    const cli = this.images.cli(poolId);
    const { configPath, clientId } = cli.connection;
    return { backingPath: cli.spec(this.images.imageOf(poolId, volumeId)), rbd: { options: `conf=${configPath};id=${clientId}` } };
  }

  volumeDataPath(): string {
    return btrfsOnly("a volume data file");
  }

  snapshotDataPath(): string {
    return btrfsOnly("a snapshot data file");
  }

  async allocatedBytes(poolId: string, volumeId: string): Promise<number> {
    return this.images.cli(poolId).usedBytes(this.images.imageOf(poolId, volumeId));
  }

  async volumeSizeBytes(poolId: string, volumeId: string): Promise<number> {
    return (await this.images.cli(poolId).info(this.images.imageOf(poolId, volumeId))).size;
  }

  async listOnDisk(poolId: string): Promise<{ volumes: string[]; snapshots: string[] }> {
    const volumes = new Set<string>();
    const snapshots = new Set<string>();
    for (const entry of await this.images.cli(poolId).list()) {
      const volumeId = this.images.volumeOf(poolId, entry.image);
      if (volumeId === undefined) continue;
      if (entry.snapshot === undefined) volumes.add(volumeId);
      else if (HEX_ID.test(entry.snapshot)) snapshots.add(entry.snapshot);
    }
    return { volumes: [...volumes], snapshots: [...snapshots] };
  }

  imageLibraryPath(): string {
    return btrfsOnly("an image library");
  }

  scratchDirectory(): string {
    return btrfsOnly("a scratch directory");
  }

  scratchPath(): string {
    return btrfsOnly("a scratch directory");
  }

  volumeFromFill(): Promise<void> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "volumes of rbd pools are not written from image files"));
  }

  // ---------------------------------------------------------------- snapshots and clones

  private async protectedSnapshot(cli: RbdCli, image: string, snapshot: string): Promise<void> {
    const existing = (await cli.snapshots(image)).find((s) => s.name === snapshot);
    if (existing === undefined) await cli.rbd(["snap", "create", "--no-progress", cli.spec(image, snapshot)]);
    if (!isProtected(existing?.protected)) await cli.rbd(["snap", "protect", cli.spec(image, snapshot)]);
  }

  private async clone(cli: RbdCli, image: string, snapshot: string, child: string): Promise<void> {
    try {
      await cli.rbd(["clone", cli.spec(image, snapshot), cli.spec(child)]);
    } catch (error) {
      // A retry after a lost reply: the clone is there already.
      if ((await cli.info(child).catch(() => undefined)) === undefined) throw error;
    }
  }

  /** Flattens the snapshot's clones (they keep their data), then unprotects and removes it. */
  private async removeSnapshot(cli: RbdCli, image: string, snapshot: string, protectedNow: boolean): Promise<void> {
    if (protectedNow) {
      for (const child of await cli.children(image, snapshot)) {
        await cli.rbd(["flatten", "--no-progress", child], RBD_SLOW_COMMAND_MS);
      }
      await cli.rbd(["snap", "unprotect", cli.spec(image, snapshot)]).catch(ignoreMissing);
    }
    await cli.rbd(["snap", "rm", "--no-progress", cli.spec(image, snapshot)]).catch(ignoreMissing);
  }

  /** The image holding a snapshot: its volume's, as recorded; else found by listing the pool (a record lost). */
  private async imageHolding(poolId: string, cli: RbdCli, snapshotId: string): Promise<string | undefined> {
    const volumeId = this.images.volumeOfSnapshot(snapshotId);
    if (volumeId !== undefined) return this.images.imageOf(poolId, volumeId);
    const entry = (await cli.list()).find((e) => e.snapshot === snapshotId && this.images.volumeOf(poolId, e.image) !== undefined);
    return entry?.image;
  }
}

function ignoreMissing(error: unknown): void {
  if (error instanceof EngineError && error.code === "NOT_FOUND") return;
  throw error;
}
