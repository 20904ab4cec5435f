/**
 * The seams between the server's domain logic (core/) and its engines (engines/). Core owns
 * these interfaces and does no I/O of its own; engines implement them on btrfs, tgtd and SQLite.
 * Everything that runs a privileged command lives behind PoolEngine, VolumeEngine or TargetEngine.
 */
import type { CacheMode, Compression, ImageFormat, RaidLevel } from "@prophetstor/dpl-provider/wire";

// ---------------------------------------------------------------- engine errors

/**
 * What an engine tells the core about a failure, as a code rather than a message to parse:
 * the filesystem is full, the object is not there, the request cannot be carried out as asked
 * (a client's to fix), or the engine failed (the server's).
 */
export type EngineErrorCode = "NO_SPACE" | "NOT_FOUND" | "INVALID_REQUEST" | "FAILED";

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

// ---------------------------------------------------------------- data engine (btrfs)

export type PoolBackendKind = "btrfs" | "rbd";

/** How an rbd pool's server reaches its Ceph cluster: files on this host, a cephx user and an RBD pool. */
export interface CephConnection {
  configPath: string;
  keyringPath: string;
  clientId: string;
  rbdPool: string;
}

export type DeviceSpec =
  | { type: "image_file"; size: number }
  | { type: "block_device"; path: string };

/** Where a pool's devices are, as recorded in metadata so the pool can be re-attached. */
export interface PoolDeviceRecord {
  deviceId: string;
  type: "image_file" | "block_device";
  /** Image file path (under the state dir) or block device path. */
  path: string;
  size: number;
}

export interface PoolUsage {
  /** Usable bytes after redundancy. */
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

/** The filesystem that holds the server's state: metadata.db and the image files of image-file pools. */
export interface HostSpace {
  /** Bytes the server may still write there (statfs f_bavail). */
  availableBytes: number;
  /**
   * Per pool: bytes its sparse image files may still take as they fill (size minus allocated).
   * Pools without image files are absent.
   */
  unallocatedImageBytes: Record<string, number>;
}

export interface DeviceHealth {
  deviceId: string;
  path: string;
  present: boolean;
  errors: { read: number; write: number; flush: number; corruption: number; generation: number };
}

export interface PoolHealth {
  state: "Online" | "Degraded" | "Offline";
  devices: DeviceHealth[];
}

/** Cumulative block I/O counters of a pool's devices (/sys/block/<dev>/stat), summed. */
export interface BlockIoCounters {
  readOps: number;
  readBytes: number;
  /** Milliseconds the reads spent, summed over reads (the kernel's read ticks). */
  readMs: number;
  writeOps: number;
  writeBytes: number;
  writeMs: number;
}

export interface PoolEngine {
  /** Makes image files (if any), loop devices, the filesystem, and mounts it. Undoes all on failure. */
  createPool(poolId: string, raid: RaidLevel, compression: Compression, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]>;
  /** Mounts an existing pool (server start). Idempotent: a mounted pool is left as is. */
  attachPool(poolId: string, devices: PoolDeviceRecord[], compression: Compression): Promise<void>;
  /** Sets the compression of data written from now on (stored data keeps its own). */
  setCompression(poolId: string, compression: Compression): Promise<void>;
  /** Unmounts and detaches loop devices; keeps the data (server stop). Idempotent. */
  detachPool(poolId: string, devices: PoolDeviceRecord[]): Promise<void>;
  /** Unmounts, detaches, and deletes image files. Idempotent. */
  destroyPool(poolId: string, devices: PoolDeviceRecord[]): Promise<void>;
  usage(poolId: string): Promise<PoolUsage>;
  /** Free space of the host filesystem under the state directory, and what image-file pools may still take of it. */
  hostSpace(): Promise<HostSpace>;
  /** Optional: waits until space that deletes free lazily (btrfs's cleaner) counts as free. */
  reclaimFreedSpace?(poolId: string): Promise<void>;
  health(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolHealth>;
  /** Block I/O counters of the pool's mounted devices; they restart when a device is attached again. */
  ioCounters(poolId: string): Promise<BlockIoCounters>;
  /**
   * Adds devices to a mounted pool (an image file each gets a new file and loop device); existing
   * data stays where it is. Undoes its own partial work on failure.
   */
  addDevices(poolId: string, devices: DeviceSpec[]): Promise<PoolDeviceRecord[]>;
  /**
   * Moves the data of `remove` (present or missing devices of `all`) onto the others and takes
   * them out of the pool; their image files and loop devices go too.
   */
  removeDevices(poolId: string, raid: RaidLevel, remove: PoolDeviceRecord[], all: PoolDeviceRecord[]): Promise<void>;
  /**
   * Rebuilds `old` (present, or missing and rebuilt from redundancy) onto a new device. Undoes
   * its own partial work on failure; the old device's image file and loop device go on success.
   */
  replaceDevice(poolId: string, old: PoolDeviceRecord, all: PoolDeviceRecord[], device: DeviceSpec): Promise<PoolDeviceRecord>;
  /**
   * The devices of a mounted pool as btrfs has them, for records a crash left behind a device
   * change: a member no record names is adopted, a recorded device btrfs no longer has (while
   * none is missing) is dropped, and image files of neither kind are deleted.
   */
  reconcileDevices(poolId: string, devices: PoolDeviceRecord[]): Promise<PoolDeviceRecord[]>;
  /** Gives every chunk the pool's profile again (chunks written while it ran degraded are "single"). */
  restoreProfile(poolId: string, raid: RaidLevel, deviceCount: number): Promise<void>;
  /** Converts data and metadata to another profile online, reporting the share of chunks done. */
  convertProfile(poolId: string, raid: RaidLevel, deviceCount: number, progress: ProgressReporter): Promise<void>;
}

/** Volumes and snapshots inside a pool a PoolEngine made and mounted. */
export interface VolumeEngine {
  /** A volume: its own subvolume holding one data file (sparse when thin, fallocated when thick). */
  createVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean, compression: Compression): Promise<void>;
  /** Compression of the volume's data written from now on ("none": whatever the pool's mount does). */
  setVolumeCompression(poolId: string, volumeId: string, compression: Compression): Promise<void>;
  /** Thick: allocates every block of the data file (its data unchanged); thin: gives zero-filled blocks back. */
  setProvisioning(poolId: string, volumeId: string, thin: boolean): Promise<void>;
  /** Grows the data file (never shrinks); thick volumes get the new range allocated. */
  resizeVolume(poolId: string, volumeId: string, sizeBytes: number, thin: boolean): Promise<void>;
  /** Idempotent: deleting a missing volume succeeds. */
  deleteVolume(poolId: string, volumeId: string): Promise<void>;
  /** Read-only, constant-time snapshot (subvolume snapshot); independent of later volume writes. */
  createSnapshot(poolId: string, volumeId: string, snapshotId: string): Promise<void>;
  /** Idempotent. */
  deleteSnapshot(poolId: string, snapshotId: string): Promise<void>;
  /** A new writable volume sharing blocks with a snapshot (same pool: no data copied). */
  volumeFromSnapshot(poolId: string, snapshotId: string, newVolumeId: string): Promise<void>;
  /** A new writable volume sharing blocks with a volume (same pool: no data copied). */
  volumeFromVolume(poolId: string, sourceVolumeId: string, newVolumeId: string): Promise<void>;
  /** Copies across pools (different filesystems), sparse-aware. */
  copyAcrossPools(source: { poolId: string; path: string }, targetPoolId: string, newVolumeId: string): Promise<void>;
  /**
   * Makes the volume's contents the snapshot's. "swap" puts a writable snapshot of the snapshot
   * where the volume was: constant time, for a volume no one holds open (the server closes an
   * exported volume's LUN meanwhile). "in-place" keeps the inode, so a file held open sees the
   * snapshot's data; its cost follows the snapshot's extent count (the copy-free benchmark
   * compares the two). Either way a volume that grew after the snapshot keeps its size.
   */
  rollbackVolume(poolId: string, volumeId: string, snapshotId: string, mode: RollbackMode): Promise<void>;
  /** Finishes or undoes rollback swaps a crash cut short (at start, before anything else runs). */
  repairInterruptedRollbacks(poolId: string): Promise<string[]>;
  /** The file holding the volume's data (btrfs pools). */
  volumeDataPath(poolId: string, volumeId: string): string;
  /** What tgtd serves for this volume: its data file, or its RBD image. */
  lunBacking(poolId: string, volumeId: string): LunBacking;
  snapshotDataPath(poolId: string, snapshotId: string): string;
  /** Bytes allocated to the volume's data file. */
  allocatedBytes(poolId: string, volumeId: string): Promise<number>;
  /** The logical size of the volume's data file as it is on disk. */
  volumeSizeBytes(poolId: string, volumeId: string): Promise<number>;
  /** Volume and snapshot ids found on disk (reconciliation reports the ones no record owns). */
  listOnDisk(poolId: string): Promise<{ volumes: string[]; snapshots: string[] }>;

  /** The pool's own image directory, on its filesystem: raw images there reflink into volumes and back. */
  imageLibraryPath(poolId: string): string;
  /** Where temporary files (downloads) go on the pool's filesystem. */
  scratchDirectory(poolId: string): string;
  /** A path in the scratch directory whose name marks the file unfinished (`.<name>.partial`); nothing is created. */
  scratchPath(poolId: string, name: string): string;
  /**
   * A new volume whose data file `fill` writes (it must create the file); then grown to
   * `sizeBytes` and, when thick, allocated in full. Undoes the subvolume when anything fails.
   */
  volumeFromFill(
    poolId: string, volumeId: string, spec: { sizeBytes: number; thin: boolean; compression: Compression },
    fill: (dataPath: string) => Promise<void>,
  ): Promise<void>;
}

// ---------------------------------------------------------------- image engine (qemu-img, http)

/** What an image holds, as read from its header (qcow2) or its length (raw). */
export interface ImageFacts {
  format: ImageFormat;
  /** Size of the disk the image describes. */
  virtualSize: number;
}

export interface ImageFileFacts extends ImageFacts {
  fileSize: number;
  allocatedBytes: number;
  ctime: number;
}

/** The image itself is unusable as asked (wrong format, backing file, unreachable URL): the client's to fix. */
export class UnusableImageError extends Error {
  override name = "UnusableImageError";
  constructor(
    message: string,
    /** What the client got wrong: the declared format, or the source (path or URL) itself. */
    readonly aspect: "format" | "source" = "source",
  ) {
    super(message);
  }
}

export interface DownloadOutcome {
  /** Bytes that came over the wire. */
  bytesReceived: number;
  /** Bytes written to disk (zero blocks became holes and are not counted). */
  bytesWritten: number;
}

export interface ImageEngine {
  /** The path with every symlink resolved, for the allow-list checks made before the file is opened; refuses a missing file. */
  resolvePath(path: string): Promise<string>;
  /**
   * Reads a file's format and virtual size, opening it once without following a symlink;
   * refuses anything but a regular file, a format mismatch and backing or external data files.
   */
  inspectFile(path: string, declared: ImageFormat): Promise<ImageFileFacts>;
  /** Learns a URL image's virtual size without fetching it (Content-Length, or the qcow2 header). */
  inspectUrl(url: string, declared: ImageFormat): Promise<ImageFacts>;
  /**
   * Fetches a URL into a new file, writing zero blocks as holes; fails (removing the file) as soon
   * as more than `maxBytes` arrive, so an endless or inflating body cannot fill the pool.
   */
  download(url: string, destination: string, progress: ProgressReporter, maxBytes: number): Promise<DownloadOutcome>;
  /**
   * Writes an image's disk contents as a new raw file: a reflink when both are raw on one btrfs,
   * else a sparse copy. Like inspectFile, it reads the regular file at that path, never a symlink.
   */
  writeRaw(source: { path: string; format: ImageFormat }, destination: string): Promise<void>;
  /** Writes a raw disk (a volume's data file) as an image file, atomically (a partial file is never visible). */
  writeImage(rawSource: string, destination: string, format: ImageFormat): Promise<void>;
  /** The file of the image with this id in one of the directories, if any. */
  locate(directories: readonly string[], id: string): Promise<{ path: string; format: ImageFormat } | undefined>;
  /** Every image file (`<32 hex>.<format>`) in the directories. */
  list(directories: readonly string[]): Promise<{ id: string; path: string; format: ImageFormat }[]>;
  /** Idempotent. */
  remove(path: string): Promise<void>;
  /** Deletes the `.<name>.partial` files a crash left in the directories; returns their paths. */
  removeUnfinished(directories: readonly string[]): Promise<string[]>;
  /** The image's bytes, start to end. */
  read(path: string): NodeJS.ReadableStream;
}

export type RollbackMode = "in-place" | "swap";

// ---------------------------------------------------------------- target engine (tgtd)

export interface ChapAccount {
  username: string;
  secret: string;
}

/** What tgtd's rbd backing store needs besides the image: `--bsopts` ("conf=<ceph.conf>;id=<cephx user>"). */
export interface LunRbdStore {
  options: string;
}

/** What a LUN serves a volume from. */
export interface LunBacking {
  backingPath: string;
  rbd?: LunRbdStore | undefined;
}

/** Everything tgtd must know about one exported volume; applying it is idempotent. */
export interface TargetSpec {
  /** Target IQN. */
  iqn: string;
  /** Small positive integer tgtd uses as the target id; stable per target. */
  tid: number;
  lun: number;
  /** The file tgtd serves, or for an rbd LUN `<rbd pool>/<image>`. */
  backingPath: string;
  /** Absent: a file (tgtd's rdwr store, opened as cacheMode says); set: tgtd's rbd store with these librados options. */
  rbd?: LunRbdStore | undefined;
  cacheMode: CacheMode;
  /** Initiator IQNs allowed to log in (ACL); empty means nobody. */
  initiators: string[];
  chap?: ChapAccount;
  mutualChap?: ChapAccount;
}

/** tgtd's counters of one LUN in one session; they vanish when the session ends. */
export interface LunSessionCounters {
  tid: number;
  lun: number;
  /** Session id, unique while tgtd runs. */
  sid: number;
  readOps: number;
  readBytes: number;
  writeOps: number;
  writeBytes: number;
  errors: number;
}

export interface TargetEngine {
  /** Starts (or adopts) the tgtd this server owns, on its own control port. */
  start(): Promise<void>;
  /** Removes every target this server made and stops tgtd. */
  stop(): Promise<void>;
  /** True when tgtd answers on its control port. */
  isAlive(): Promise<boolean>;
  /** Creates or updates the target to match the spec exactly (ACL, CHAP, LUN). */
  applyTarget(spec: TargetSpec): Promise<void>;
  /** Idempotent: removing a missing target succeeds. Drops logged-in sessions. */
  removeTarget(tid: number): Promise<void>;
  /**
   * Removes one LUN and so closes its backing store; the target, its ACL and its logged-in sessions
   * stay (initiators get "no such LUN" until applyTarget brings it back). Idempotent.
   */
  closeLun(tid: number, lun: number): Promise<void>;
  /** Makes a LUN's new size visible to initiators after the backing file grew. */
  refreshLunSize(spec: TargetSpec): Promise<void>;
  /** Target ids tgtd currently has (reconciliation). */
  listTargetIds(): Promise<number[]>;
  /**
   * Runs `work` while the initiators of these targets get no command carried out: commands they
   * send meanwhile wait and run afterwards (they see latency, never an error), and no write is
   * half done while `work` runs. An engine may hold more targets than asked (tgtd holds all of its
   * own). Fails, after resuming, when `work` outlasts the engine's longest pause.
   */
  withIoPaused<T>(tids: readonly number[], work: () => Promise<T>): Promise<T>;
  /** Completed-command counters of every LUN in every logged-in session. */
  ioCounters(): Promise<LunSessionCounters[]>;
}

// ---------------------------------------------------------------- pool maintenance (btrfs)

export interface ScrubOutcome {
  bytesScrubbed: number;
  csumErrors: number;
  readErrors: number;
  verifyErrors: number;
  superErrors: number;
  correctedErrors: number;
  uncorrectableErrors: number;
}

export interface CompressionUsage {
  /** Bytes the data takes on disk. */
  diskBytes: number;
  /** Bytes it would take uncompressed. */
  uncompressedBytes: number;
}

export interface DedupeOutcome {
  usedBytesBefore: number;
  usedBytesAfter: number;
  filesScanned: number;
}

/** Reports a fraction done, 0..1. */
export type ProgressReporter = (fraction: number) => void;

/** Self-heal, dedupe and space accounting of a mounted pool; safe while its volumes are in use. */
export interface PoolMaintenanceEngine {
  /** Reads every copy of every block, repairing bad ones from a good copy. */
  scrub(poolId: string, progress: ProgressReporter): Promise<ScrubOutcome>;
  /** Out-of-band dedupe (FIDEDUPERANGE: only identical bytes are shared, under the kernel's locks). */
  dedupe(poolId: string, progress: ProgressReporter): Promise<DedupeOutcome>;
  /** Compression of a pool's volume data, or of one volume; undefined when nothing is stored. */
  compressionUsage(poolId: string, volumeId?: string): Promise<CompressionUsage | undefined>;
}

// ---------------------------------------------------------------- discovery

/** What the kernel says of a block device. */
export interface BlockDeviceFacts {
  sizeBytes: number;
  model: string | null;
  rotational: boolean | null;
}

export interface BlockDeviceCatalog {
  /** undefined when no block device is at that path. */
  describe(path: string): Promise<BlockDeviceFacts | undefined>;
}
