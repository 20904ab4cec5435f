/**
 * Engines that keep everything in memory and implement the core's ports (PoolEngine,
 * VolumeEngine, TargetEngine), so the core's services and the HTTP routes are tested without
 * root, btrfs or tgtd. They model what the core relies on: sizes and allocation of thin and thick
 * files, snapshots as copies, a target table tgtd would hold, a host filesystem with free space.
 * A test can gate an operation (to hold a job mid-work) and crash the target engine.
 */
import type { Compression, RaidLevel } from "@prophetstor/dpl-provider/wire";
import { EngineError } from "../../server/src/core/ports";
import type {
  BlockDeviceCatalog, BlockDeviceFacts, BlockIoCounters, CompressionUsage, DedupeOutcome, DeviceSpec, HostSpace, LunSessionCounters, PoolDeviceRecord, PoolEngine, PoolHealth, PoolMaintenanceEngine, PoolUsage, ProgressReporter, RollbackMode,
  ScrubOutcome, TargetEngine, TargetSpec, VolumeEngine,
} from "../../server/src/core/ports";

/** A file the volume engine holds: its size, how much of it is allocated, and what it holds. */
interface MemoryFile {
  size: number;
  allocated: number;
  /** Stands for the data: copied by snapshots and clones, replaced by rollbacks. */
  content: string;
}

interface MemoryPool {
  raid: RaidLevel;
  compression: Compression;
  devices: PoolDeviceRecord[];
  mounted: boolean;
}

/** A promise a test resolves to let a held operation go on. */
export class Gate {
  private release: (() => void) | undefined;
  private readonly opened: Promise<void>;
  /** Resolves once an operation waits at the gate. */
  readonly reached: Promise<void>;
  private markReached!: () => void;

  constructor() {
    this.opened = new Promise((resolve) => {
      this.release = resolve;
    });
    this.reached = new Promise((resolve) => {
      this.markReached = resolve;
    });
  }

  async pass(): Promise<void> {
    this.markReached();
    await this.opened;
  }

  open(): void {
    this.release?.();
  }
}

/** The disks both in-memory engines share: pools, their files, and the host filesystem. */
export class MemoryDisks {
  readonly pools = new Map<string, MemoryPool>();
  readonly files = new Map<string, MemoryFile>();
  /** Replication's send streams, by path: bytes, unlike the files' stand-in content. */
  readonly streams = new Map<string, Buffer>();
  /** Block devices on the host, by path. */
  readonly blockDevices = new Map<string, BlockDeviceFacts>();
  /** Free bytes of the host filesystem under the state directory. */
  hostAvailableBytes = 64 * 2 ** 30;
  /** The kernel's block counters of each pool's devices, as a test sets them. */
  readonly blockCounters = new Map<string, BlockIoCounters>();
  /** Device paths gone from the host (unplugged, file deleted): a pool on one does not attach. */
  readonly missingDevices = new Set<string>();
  /** Operations a test holds: name → gate (e.g. "copyAcrossPools"). */
  readonly gates = new Map<string, Gate>();
  private nextDevice = 1;

  /** Holds the next `operation` until the returned gate opens. */
  hold(operation: string): Gate {
    const gate = new Gate();
    this.gates.set(operation, gate);
    return gate;
  }

  async passGate(operation: string): Promise<void> {
    const gate = this.gates.get(operation);
    if (gate === undefined) return;
    this.gates.delete(operation);
    await gate.pass();
  }

  deviceRecord(poolId: string, device: DeviceSpec): PoolDeviceRecord {
    const deviceId = (this.nextDevice++).toString(16).padStart(32, "0");
    return device.type === "image_file"
      ? { deviceId, type: "image_file", path: `/memory/images/${poolId}/${deviceId}.img`, size: device.size }
      : { deviceId, type: "block_device", path: device.path, size: this.blockDevices.get(device.path)?.sizeBytes ?? 2 ** 30 };
  }

  pool(poolId: string): MemoryPool {
    const pool = this.pools.get(poolId);
    if (pool?.mounted !== true) throw new Error(`pool ${poolId} is not mounted`);
    return pool;
  }

  poolFiles(poolId: string): MemoryFile[] {
    return [...this.files.entries()].filter(([path]) => path.startsWith(`/memory/pools/${poolId}/`)).map(([, file]) => file);
  }

  file(path: string): MemoryFile {
    const file = this.files.get(path);
    if (file === undefined) throw new Error(`${path} does not exist`);
    return file;
  }
}

export class InMemoryPoolEngine implements PoolEngine {
  constructor(private readonly disks: MemoryDisks) {}

  createPool(poolId: string, raid: RaidLevel, compression: Compression, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]> {
    const records = devices.map((device) => this.disks.deviceRecord(poolId, device));
    this.disks.pools.set(poolId, { raid, compression, devices: records, mounted: true });
    return Promise.resolve(records);
  }

  attachPool(poolId: string, devices: PoolDeviceRecord[], compression: Compression): Promise<void> {
    const missing = devices.find((device) => this.disks.missingDevices.has(device.path));
    if (missing !== undefined) return Promise.reject(new EngineError("NOT_FOUND", `device ${missing.path} of pool ${poolId} is missing`));
    const pool = this.disks.pools.get(poolId);
    this.disks.pools.set(poolId, { raid: pool?.raid ?? "single", compression, devices, mounted: true });
    return Promise.resolve();
  }

  setCompression(poolId: string, compression: Compression): Promise<void> {
    this.disks.pool(poolId).compression = compression;
    return Promise.resolve();
  }

  detachPool(poolId: string): Promise<void> {
    const pool = this.disks.pools.get(poolId);
    if (pool !== undefined) pool.mounted = false;
    return Promise.resolve();
  }

  destroyPool(poolId: string): Promise<void> {
    this.disks.pools.delete(poolId);
    for (const path of [...this.disks.files.keys()]) if (path.startsWith(`/memory/pools/${poolId}/`)) this.disks.files.delete(path);
    return Promise.resolve();
  }

  usage(poolId: string): Promise<PoolUsage> {
    const devices = this.disks.pool(poolId).devices;
    // A pool without devices stands for an rbd pool: its cluster holds what its devices would.
    const totalBytes = devices.length === 0 ? IN_MEMORY_CLUSTER_BYTES : devices.reduce((sum, device) => sum + device.size, 0);
    const usedBytes = this.disks.poolFiles(poolId).reduce((sum, file) => sum + file.allocated, 0);
    return Promise.resolve({ totalBytes, usedBytes, freeBytes: Math.max(0, totalBytes - usedBytes) });
  }

  hostSpace(): Promise<HostSpace> {
    const unallocatedImageBytes: Record<string, number> = {};
    for (const [poolId, pool] of this.disks.pools) {
      const imageBytes = pool.devices.filter((device) => device.type === "image_file").reduce((sum, device) => sum + device.size, 0);
      if (imageBytes === 0) continue;
      const used = this.disks.poolFiles(poolId).reduce((sum, file) => sum + file.allocated, 0);
      unallocatedImageBytes[poolId] = Math.max(0, imageBytes - used);
    }
    return Promise.resolve({ availableBytes: this.disks.hostAvailableBytes, unallocatedImageBytes });
  }

  health(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolHealth> {
    const state = this.disks.pools.get(poolId)?.mounted === true ? "Online" : "Offline";
    return Promise.resolve({
      state,
      devices: devices.map((device) => ({ deviceId: device.deviceId, path: device.path, present: true, errors: { read: 0, write: 0, flush: 0, corruption: 0, generation: 0 } })),
    });
  }

  ioCounters(poolId: string): Promise<BlockIoCounters> {
    return Promise.resolve(this.disks.blockCounters.get(poolId) ?? { readOps: 0, readBytes: 0, readMs: 0, writeOps: 0, writeBytes: 0, writeMs: 0 });
  }

  addDevices(poolId: string, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]> {
    const added = devices.map((device) => this.disks.deviceRecord(poolId, device));
    this.disks.pool(poolId).devices.push(...added);
    return Promise.resolve(added);
  }

  removeDevices(poolId: string, _raid: RaidLevel, remove: PoolDeviceRecord[]): Promise<void> {
    const gone = new Set(remove.map((device) => device.deviceId));
    const pool = this.disks.pool(poolId);
    pool.devices = pool.devices.filter((device) => !gone.has(device.deviceId));
    return Promise.resolve();
  }

  replaceDevice(poolId: string, old: PoolDeviceRecord, _all: PoolDeviceRecord[], device: DeviceSpec): Promise<PoolDeviceRecord> {
    const added = this.disks.deviceRecord(poolId, device);
    const pool = this.disks.pool(poolId);
    pool.devices = pool.devices.map((d) => (d.deviceId === old.deviceId ? added : d));
    return Promise.resolve(added);
  }

  reconcileDevices(_poolId: string, devices: PoolDeviceRecord[]): Promise<PoolDeviceRecord[]> {
    return Promise.resolve(devices);
  }

  restoreProfile(): Promise<void> {
    return Promise.resolve();
  }

  convertProfile(poolId: string, raid: RaidLevel, _deviceCount: number, progress: ProgressReporter): Promise<void> {
    this.disks.pool(poolId).raid = raid;
    progress(1);
    return Promise.resolve();
  }
}

/** The capacity a pool without devices (an rbd pool's stand-in) reports. */
const IN_MEMORY_CLUSTER_BYTES = 64 * 2 ** 30;

export class InMemoryVolumeEngine implements VolumeEngine {
  constructor(private readonly disks: MemoryDisks) {}

  volumeDataPath(poolId: string, volumeId: string): string {
    return `/memory/pools/${poolId}/volumes/${volumeId}/data`;
  }

  lunBacking(poolId: string, volumeId: string): { backingPath: string } {
    return { backingPath: this.volumeDataPath(poolId, volumeId) };
  }

  snapshotDataPath(poolId: string, snapshotId: string): string {
    return `/memory/pools/${poolId}/snapshots/${snapshotId}/data`;
  }

  imageLibraryPath(poolId: string): string {
    return `/memory/pools/${poolId}/images`;
  }

  scratchDirectory(poolId: string): string {
    return `/memory/pools/${poolId}/scratch`;
  }

  scratchPath(poolId: string, name: string): string {
    return `${this.scratchDirectory(poolId)}/.${name}.partial`;
  }

  createVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean): Promise<void> {
    this.disks.pool(poolId);
    const path = this.volumeDataPath(poolId, volumeId);
    const existing = this.disks.files.get(path);
    if (existing !== undefined && existing.size !== sizeBytes) return Promise.reject(new Error(`volume ${volumeId} exists with another size`));
    this.disks.files.set(path, { size: sizeBytes, allocated: thin ? 0 : sizeBytes, content: "" });
    return Promise.resolve();
  }

  setVolumeCompression(): Promise<void> {
    return Promise.resolve();
  }

  setProvisioning(poolId: string, volumeId: string, thin: boolean): Promise<void> {
    const file = this.disks.file(this.volumeDataPath(poolId, volumeId));
    file.allocated = thin ? 0 : file.size;
    return Promise.resolve();
  }

  async resizeVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean): Promise<void> {
    await this.disks.passGate("resizeVolume");
    const file = this.disks.file(this.volumeDataPath(poolId, volumeId));
    if (sizeBytes < file.size) throw new Error(`volume ${volumeId} cannot shrink`);
    if (!thin) file.allocated += sizeBytes - file.size;
    file.size = sizeBytes;
  }

  deleteVolume(poolId: string, volumeId: string): Promise<void> {
    this.disks.files.delete(this.volumeDataPath(poolId, volumeId));
    return Promise.resolve();
  }

  createSnapshot(poolId: string, volumeId: string, snapshotId: string): Promise<void> {
    this.disks.files.set(this.snapshotDataPath(poolId, snapshotId), { ...this.disks.file(this.volumeDataPath(poolId, volumeId)) });
    return Promise.resolve();
  }

  deleteSnapshot(poolId: string, snapshotId: string): Promise<void> {
    this.disks.files.delete(this.snapshotDataPath(poolId, snapshotId));
    return Promise.resolve();
  }

  volumeFromSnapshot(poolId: string, snapshotId: string, newVolumeId: string): Promise<void> {
    this.disks.files.set(this.volumeDataPath(poolId, newVolumeId), { ...this.disks.file(this.snapshotDataPath(poolId, snapshotId)) });
    return Promise.resolve();
  }

  volumeFromVolume(poolId: string, sourceVolumeId: string, newVolumeId: string): Promise<void> {
    this.disks.files.set(this.volumeDataPath(poolId, newVolumeId), { ...this.disks.file(this.volumeDataPath(poolId, sourceVolumeId)) });
    return Promise.resolve();
  }

  async copyAcrossPools(source: { poolId: string; path: string }, targetPoolId: string, newVolumeId: string): Promise<void> {
    const copy = { ...this.disks.file(source.path) };
    await this.disks.passGate("copyAcrossPools");
    this.disks.pool(targetPoolId);
    this.disks.files.set(this.volumeDataPath(targetPoolId, newVolumeId), copy);
  }

  rollbackVolume(poolId: string, volumeId: string, snapshotId: string, _mode: RollbackMode): Promise<void> {
    const volume = this.disks.file(this.volumeDataPath(poolId, volumeId));
    const snapshot = this.disks.file(this.snapshotDataPath(poolId, snapshotId));
    // A volume that grew after the snapshot keeps its size.
    this.disks.files.set(this.volumeDataPath(poolId, volumeId), { ...snapshot, size: Math.max(volume.size, snapshot.size) });
    return Promise.resolve();
  }

  repairInterruptedRollbacks(): Promise<string[]> {
    return Promise.resolve([]);
  }

  allocatedBytes(poolId: string, volumeId: string): Promise<number> {
    return Promise.resolve(this.disks.file(this.volumeDataPath(poolId, volumeId)).allocated);
  }

  volumeSizeBytes(poolId: string, volumeId: string): Promise<number> {
    return Promise.resolve(this.disks.file(this.volumeDataPath(poolId, volumeId)).size);
  }

  listOnDisk(poolId: string): Promise<{ volumes: string[]; snapshots: string[] }> {
    const ids = (kind: string): string[] => [...this.disks.files.keys()]
      .flatMap((path) => new RegExp(`^/memory/pools/${poolId}/${kind}/([^/]+)/data$`).exec(path)?.[1] ?? [])
      .sort();
    return Promise.resolve({ volumes: ids("volumes"), snapshots: ids("snapshots") });
  }

  async volumeFromFill(
    poolId: string, volumeId: string, spec: { sizeBytes: number; thin: boolean; compression: Compression },
    fill: (dataPath: string) => Promise<void>,
  ): Promise<void> {
    const path = this.volumeDataPath(poolId, volumeId);
    this.disks.files.set(path, { size: spec.sizeBytes, allocated: spec.thin ? 0 : spec.sizeBytes, content: "" });
    try {
      await fill(path);
    } catch (error) {
      this.disks.files.delete(path);
      throw error;
    }
  }
}

/** tgtd's target table in memory. crash() loses it, as a killed tgtd does. */
export class InMemoryTargetEngine implements TargetEngine {
  readonly targets = new Map<number, TargetSpec>();
  /** tgtd's per-session counters, as a test sets them (a session gone from the list logged out). */
  sessions: LunSessionCounters[] = [];
  alive = false;

  start(): Promise<void> {
    this.alive = true;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.targets.clear();
    this.alive = false;
    return Promise.resolve();
  }

  /** tgtd died: its targets are gone until the server applies them again. */
  crash(): void {
    this.targets.clear();
    this.alive = false;
  }

  isAlive(): Promise<boolean> {
    return Promise.resolve(this.alive);
  }

  applyTarget(spec: TargetSpec): Promise<void> {
    if (!this.alive) return Promise.reject(new Error("tgtd is not running"));
    this.targets.set(spec.tid, structuredClone(spec));
    return Promise.resolve();
  }

  removeTarget(tid: number): Promise<void> {
    if (!this.alive) return Promise.reject(new Error("tgtd is not running"));
    this.targets.delete(tid);
    return Promise.resolve();
  }

  refreshLunSize(spec: TargetSpec): Promise<void> {
    return this.applyTarget(spec);
  }

  /** The target stays; what it serves is gone until the next applyTarget. */
  closeLun(tid: number): Promise<void> {
    if (!this.alive) return Promise.reject(new Error("tgtd is not running"));
    const target = this.targets.get(tid);
    if (target !== undefined) this.targets.set(tid, { ...target, backingPath: "" });
    return Promise.resolve();
  }

  listTargetIds(): Promise<number[]> {
    return Promise.resolve([...this.targets.keys()].sort((a, b) => a - b));
  }

  withIoPaused<T>(_tids: readonly number[], work: () => Promise<T>): Promise<T> {
    return work();
  }

  ioCounters(): Promise<LunSessionCounters[]> {
    return Promise.resolve(structuredClone(this.sessions));
  }
}

export class InMemoryBlockDeviceCatalog implements BlockDeviceCatalog {
  constructor(private readonly disks: MemoryDisks) {}

  describe(path: string): Promise<BlockDeviceFacts | undefined> {
    return Promise.resolve(this.disks.blockDevices.get(path));
  }
}

/** Scrub and dedupe that report what a test set; a scrub with `failure` set fails with it. */
export class InMemoryMaintenanceEngine implements PoolMaintenanceEngine {
  scrubOutcome: ScrubOutcome = { bytesScrubbed: 0, csumErrors: 0, readErrors: 0, verifyErrors: 0, superErrors: 0, correctedErrors: 0, uncorrectableErrors: 0 };
  dedupeOutcome: DedupeOutcome = { usedBytesBefore: 0, usedBytesAfter: 0, filesScanned: 0 };
  failure: Error | undefined;
  readonly runs: string[] = [];

  constructor(private readonly disks: MemoryDisks) {}

  scrub(poolId: string, progress: ProgressReporter): Promise<ScrubOutcome> {
    return this.run("scrub", poolId, progress, this.scrubOutcome);
  }

  dedupe(poolId: string, progress: ProgressReporter): Promise<DedupeOutcome> {
    return this.run("dedupe", poolId, progress, this.dedupeOutcome);
  }

  compressionUsage(): Promise<CompressionUsage | undefined> {
    return Promise.resolve(undefined);
  }

  private async run<T>(operation: string, poolId: string, progress: ProgressReporter, outcome: T): Promise<T> {
    this.disks.pool(poolId);
    this.runs.push(`${operation} ${poolId}`);
    progress(0.5);
    await this.disks.passGate(operation);
    if (this.failure !== undefined) throw this.failure;
    return structuredClone(outcome);
  }
}

