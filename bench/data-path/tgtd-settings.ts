/**
 * The tgtd settings the data-path benchmark compares (DESIGN.md §5 lists what was measured on
 * this kind of machine before). "shipped" is the set the server should start tgtd with; the
 * benchmark re-measures it against the others every full run, and names the best.
 */

export interface TgtdSettings {
  name: string;
  /** Environment tgtd starts with (glibc malloc tunables). */
  env: Record<string, string>;
  /** tgtd -t (I/O threads per backing store); undefined = tgtd's default (16). */
  ioThreads?: number;
  /**
   * "null": no disk at all (reads return zeros, writes are dropped): the iSCSI transport's ceiling.
   * "rbd": an RBD image through librbd (tgt-rbd), what the server's rbd pools export.
   */
  bstype: "rdwr" | "aio" | "null" | "rbd";
  /**
   * "direct" = O_DIRECT on the backing file (the baseline then uses O_DIRECT too); aio is always
   * O_DIRECT. "sync" (O_SYNC) and "" (page cache) are the server's writethrough and writeback
   * cache modes, which the cache-modes benchmark compares.
   */
  bsoflags: "direct" | "sync" | "";
  /** CPUs tgtd runs on (`taskset -c`); undefined = any, like the initiator and the disk. */
  cpus?: string;
  /** iSCSI session parameters set per target with `tgtadm --op update --name N --value V`. */
  sessionParams: Record<string, string>;
}

/**
 * glibc hands each large buffer tgtd allocates per command back to the kernel on free (mmap
 * threshold 128 KiB), so every 1 MiB command page-faults a fresh buffer; these keep the heap.
 */
export const MALLOC_KEEP_HEAP: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "1073741824",
  MALLOC_TOP_PAD_: "67108864",
};

/** Larger PDUs and bursts, and unsolicited data for writes (fewer R2T round trips). */
export const LARGE_BURST_SESSION: Record<string, string> = {
  MaxRecvDataSegmentLength: "262144",
  MaxXmitDataSegmentLength: "262144",
  MaxBurstLength: "1048576",
  FirstBurstLength: "1048576",
  InitialR2T: "No",
  ImmediateData: "Yes",
};

export const STOCK: TgtdSettings = { name: "stock", env: {}, bstype: "rdwr", bsoflags: "direct", sessionParams: {} };

export const SHIPPED: TgtdSettings = {
  name: "shipped",
  env: MALLOC_KEEP_HEAP,
  bstype: "rdwr",
  bsoflags: "direct",
  sessionParams: LARGE_BURST_SESSION,
};

/**
 * The shipped settings over tgtd's null backing store: what initiator, transport and tgtd cost
 * without any disk. Measured beside every workload to know the ceiling, not to be shipped.
 */
export const NULL_CEILING: TgtdSettings = { ...SHIPPED, name: "null-ceiling", bstype: "null" };

/** What the server exports an rbd pool's volume with: librbd caches as the Ceph client is set, so no open flags. */
export const RBD_SHIPPED: TgtdSettings = { ...SHIPPED, bstype: "rbd", bsoflags: "" };

/** The full mode's tuning matrix: one change at a time from `shipped` (and from `stock`). */
export const TUNING_MATRIX: TgtdSettings[] = [
  STOCK,
  { ...STOCK, name: "malloc-only", env: MALLOC_KEEP_HEAP },
  { ...STOCK, name: "session-only", sessionParams: LARGE_BURST_SESSION },
  SHIPPED,
  { ...SHIPPED, name: "shipped+aio", bstype: "aio" },
  { ...SHIPPED, name: "shipped+4-threads", ioThreads: 4 },
  { ...SHIPPED, name: "shipped+64-threads", ioThreads: 64 },
  // tgtd on one core of its own, the initiator and btrfs free to use both.
  { ...SHIPPED, name: "shipped+aio+cpu1", bstype: "aio", cpus: "1" },
];

function backingStoreText(s: TgtdSettings): string {
  switch (s.bstype) {
    case "aio":
      return "--bstype aio (O_DIRECT)";
    case "null":
      return "--bstype null (no disk)";
    case "rbd":
      return "--bstype rbd --bsopts conf=…;id=…";
    case "rdwr":
      return `--bstype rdwr${s.bsoflags === "" ? "" : ` --bsoflags ${s.bsoflags}`}`;
  }
}

/** The settings as a reader would apply them by hand. */
export function describeSettings(s: TgtdSettings): string {
  const env = Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(" ");
  const params = Object.entries(s.sessionParams).map(([k, v]) => `${k}=${v}`).join(", ");
  return [
    `${s.name}:`,
    env === "" ? "no env" : `env ${env}`,
    `${s.cpus === undefined ? "" : `taskset -c ${s.cpus} `}tgtd${s.ioThreads === undefined ? "" : ` -t ${s.ioThreads}`}`,
    backingStoreText(s),
    params === "" ? "default session params" : `session ${params}`,
  ].join(" ");
}
