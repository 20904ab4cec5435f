/**
 * rbd pools: a DPL pool is a share of one Ceph pool (its images carry the DPL pool's id). Ceph
 * holds the devices, the redundancy and the space, so the device and profile operations of btrfs
 * pools do not exist here (core refuses them before they reach this engine); creating a pool
 * checks that the cluster, the user and the RBD pool answer, destroying it removes its images.
 */
import type { Compression } from "@prophetstor/dpl-provider/wire";
import { EngineError, type BlockIoCounters, type HostSpace, type PoolEngine, type PoolHealth, type PoolUsage } from "../../core/ports";
import type { RbdCli } from "./rbd-cli";
import { RbdImages, type RbdPoolDirectory } from "./rbd-images";
import { RbdVolumeEngine } from "./rbd-volume-engine";

/** How long a pool create or attach waits for the cluster to answer before calling it unreachable. */
const REACH_TIMEOUT_MS = 30_000;

const NO_IO: BlockIoCounters = { readOps: 0, readBytes: 0, readMs: 0, writeOps: 0, writeBytes: 0, writeMs: 0 };

export class RbdPoolEngine implements PoolEngine {
  private readonly images: RbdImages;
  private readonly volumes: RbdVolumeEngine;

  constructor(directory: RbdPoolDirectory) {
    this.images = new RbdImages(directory);
    this.volumes = new RbdVolumeEngine(directory);
  }

  async createPool(poolId: string): Promise<[]> {
    await this.reach(poolId);
    return [];
  }

  async attachPool(poolId: string): Promise<void> {
    await this.reach(poolId);
  }

  setCompression(_poolId: string, compression: Compression): Promise<void> {
    return compression === "none" ? Promise.resolve() : Promise.reject(new EngineError("INVALID_REQUEST", "compression is the Ceph pool's setting"));
  }

  /** Nothing is mounted or attached on this host. */
  detachPool(): Promise<void> {
    return Promise.resolve();
  }

  /** Removes every image of this DPL pool (clones before their parents: deleting a volume flattens clones still there). */
  async destroyPool(poolId: string): Promise<void> {
    const cli = this.images.cli(poolId);
    const volumes = new Set<string>();
    for (const entry of await cli.list()) {
      const volumeId = this.images.volumeOf(poolId, entry.image);
      if (volumeId !== undefined && entry.snapshot === undefined) volumes.add(volumeId);
    }
    for (const volumeId of volumes) await this.volumes.deleteVolume(poolId, volumeId);
  }

  /**
   * The Ceph pool's figures: what it stores and what it may still take (`ceph df`, after its
   * replication). DPL pools sharing one Ceph pool show the same figures.
   */
  async usage(poolId: string): Promise<PoolUsage> {
    const { stored, maxAvail } = await this.images.cli(poolId).poolStats();
    return { totalBytes: stored + maxAvail, usedBytes: stored, freeBytes: maxAvail };
  }

  hostSpace(): Promise<HostSpace> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "rbd pools keep nothing on this host"));
  }

  /** Ceph frees a deleted image's objects as it removes it. */
  reclaimFreedSpace(): Promise<void> {
    return Promise.resolve();
  }

  async health(poolId: string): Promise<PoolHealth> {
    const status = await this.images.cli(poolId).health().catch(() => "unreachable");
    const state = status === "HEALTH_OK" ? "Online" : status === "HEALTH_WARN" ? "Degraded" : "Offline";
    return { state, devices: [] };
  }

  /** Ceph counts an image's I/O itself (`rbd perf image iostat`); the tgtd session counters cover exported volumes. */
  ioCounters(): Promise<BlockIoCounters> {
    return Promise.resolve(NO_IO);
  }

  addDevices(): Promise<never> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "devices of rbd pools are the Ceph cluster's OSDs"));
  }

  removeDevices(): Promise<void> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "devices of rbd pools are the Ceph cluster's OSDs"));
  }

  replaceDevice(): Promise<never> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "devices of rbd pools are the Ceph cluster's OSDs"));
  }

  reconcileDevices(): Promise<[]> {
    return Promise.resolve([]);
  }

  /** Ceph restores its own redundancy (recovery and backfill) once OSDs come back. */
  restoreProfile(): Promise<void> {
    return Promise.resolve();
  }

  convertProfile(): Promise<void> {
    return Promise.reject(new EngineError("INVALID_REQUEST", "the Ceph pool's size sets its redundancy"));
  }

  /** Fails, as a client's error, unless the cluster answers with this user's key and the RBD pool exists. */
  private async reach(poolId: string): Promise<RbdCli> {
    const cli = this.images.cli(poolId);
    try {
      await cli.rbd(["ls", "--format", "json", "--pool", cli.connection.rbdPool], REACH_TIMEOUT_MS);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EngineError("INVALID_REQUEST", `Ceph pool ${cli.connection.rbdPool} cannot be reached as client.${cli.connection.clientId}: ${reason}`);
    }
    return cli;
  }
}
