/**
 * The data-path workloads and the two ways they are driven:
 *
 * - through iSCSI: `qemu-img bench` (libiscsi, a user-space initiator) with cache=none: no host
 *   cache and no flush per write, i.e. the target's O_DIRECT writes are what is measured;
 * - locally: fio with libaio and O_DIRECT on the same file, the same block size and depth (on an
 *   rbd pool: fio's rbd engine on the same image).
 *
 * Why two tools: qemu-img bench reads every request into ONE shared buffer, and btrfs verifies
 * O_DIRECT read checksums in the user's buffer, so at depth > 1 on a local btrfs file it fails with
 * false checksum errors (EIO); tgtd gives each command its own buffer, so the iSCSI side is sound.
 * fio is the stronger baseline (it is lighter than qemu's block layer), so ratios err low.
 *
 * "Random" 4 KiB on the qemu side is a stride of 7919 blocks (a prime, so it visits every block
 * of the file once per pass in a scattered order); on the fio side fio's LFSR generator, which also
 * visits each block once. Neither lets requests merge or the readahead help.
 */
import { runCommand } from "../../server/src/engines/command";
import type { CephClusterAccess } from "../../test/support/ceph-cluster";

export interface Workload {
  id: string;
  label: string;
  direction: "read" | "write";
  pattern: "sequential" | "random";
  blockBytes: number;
  depth: number;
  /** iSCSI side only: a SYNCHRONIZE CACHE after every this many requests (qemu-img bench --flush-interval). */
  flushEvery?: number;
}

const MIB = 2 ** 20;
const KIB = 1024;

export function workload(direction: Workload["direction"], pattern: Workload["pattern"], blockBytes: number, depth: number): Workload {
  const size = blockBytes >= MIB ? `${blockBytes / MIB} MiB` : `${blockBytes / KIB} KiB`;
  const shortPattern = pattern === "sequential" ? "seq" : "rand";
  return {
    id: `${shortPattern}-${direction}-${blockBytes / KIB}k-qd${depth}`,
    label: `${shortPattern} ${size} ${direction} QD${depth}`,
    direction,
    pattern,
    blockBytes,
    depth,
  };
}

/** Reads first: writes on btrfs (copy-on-write) change the file's layout for what follows. */
export const ALL_WORKLOADS: Workload[] = [
  workload("read", "sequential", MIB, 1),
  workload("read", "sequential", MIB, 32),
  workload("read", "random", 4 * KIB, 1),
  workload("read", "random", 4 * KIB, 32),
  workload("write", "sequential", MIB, 1),
  workload("write", "sequential", MIB, 32),
  workload("write", "random", 4 * KIB, 1),
  workload("write", "random", 4 * KIB, 32),
];

export interface WorkloadResult {
  bytesPerSecond: number;
  iops: number;
  seconds: number;
}

const STRIDE_BLOCKS = 7919;

function qemuBenchArgs(url: string, w: Workload, count: number): string[] {
  const args = ["bench", "-f", "raw", "-t", "none", "-s", String(w.blockBytes), "-d", String(w.depth), "-c", String(count), "--pattern=165"];
  if (w.pattern === "random") args.push("-S", String(w.blockBytes * STRIDE_BLOCKS));
  if (w.direction === "write") args.push("-w");
  if (w.flushEvery !== undefined) args.push(`--flush-interval=${w.flushEvery}`);
  args.push(url);
  return args;
}

async function qemuBenchOnce(url: string, w: Workload, count: number): Promise<WorkloadResult> {
  const { stdout } = await runCommand("qemu-img", qemuBenchArgs(url, w, count), { timeoutMs: 300_000 });
  const match = /Run completed in ([\d.]+) seconds/.exec(stdout);
  if (match?.[1] === undefined) throw new Error(`qemu-img bench printed no run time: ${stdout.trim()}`);
  const seconds = Number(match[1]);
  return { seconds, iops: count / seconds, bytesPerSecond: (count * w.blockBytes) / seconds };
}

/**
 * qemu-img bench runs a request count, not a time: a short probe (which also warms the session)
 * sizes the real run to about `seconds`.
 */
export async function runOverIscsi(url: string, w: Workload, seconds: number): Promise<WorkloadResult> {
  const probeCount = w.blockBytes >= MIB ? 64 : 1000;
  const probe = await qemuBenchOnce(url, w, probeCount);
  const count = Math.max(probeCount, Math.min(5_000_000, Math.round(probe.iops * seconds)));
  return qemuBenchOnce(url, w, count);
}

const FioReport = {
  parse(text: string, direction: Workload["direction"]): WorkloadResult {
    const report = JSON.parse(text) as { jobs?: { read: { bw_bytes: number; iops: number; runtime: number }; write: { bw_bytes: number; iops: number; runtime: number } }[] };
    const job = report.jobs?.[0];
    if (job === undefined) throw new Error("fio reported no job");
    const side = direction === "read" ? job.read : job.write;
    return { bytesPerSecond: side.bw_bytes, iops: side.iops, seconds: side.runtime / 1000 };
  },
};

/**
 * What fio drives locally: a file (libaio, O_DIRECT), or an RBD image through librbd (fio's rbd
 * engine, the same library and Ceph client settings as tgtd's rbd backing store).
 */
export type LocalTarget =
  | { kind: "file"; file: string; bytes: number }
  | { kind: "rbd"; cluster: CephClusterAccess; image: string; bytes: number };

function fioTarget(target: LocalTarget): { args: string[]; env: Record<string, string> } {
  if (target.kind === "file") {
    return { args: [`--filename=${target.file}`, `--size=${target.bytes}`, "--ioengine=libaio", "--direct=1"], env: {} };
  }
  // librados finds the cluster through CEPH_CONF, and the user's key through its [client] keyring line.
  return {
    args: ["--ioengine=rbd", `--clientname=${target.cluster.client}`, `--pool=${target.cluster.rbdPool}`, `--rbdname=${target.image}`, `--size=${target.bytes}`],
    env: { CEPH_CONF: target.cluster.conf },
  };
}

export async function runLocally(target: LocalTarget, w: Workload, seconds: number): Promise<WorkloadResult> {
  const rw = `${w.pattern === "random" ? "rand" : ""}${w.direction}`;
  const { args, env } = fioTarget(target);
  const { stdout } = await runCommand("fio", [
    "--name=local", ...args, `--rw=${rw}`, `--bs=${w.blockBytes}`, `--iodepth=${w.depth}`, "--random_generator=lfsr",
    "--ramp_time=500ms", `--runtime=${Math.round(seconds * 1000)}ms`, "--time_based", "--output-format=json",
  ], { timeoutMs: (seconds + 60) * 1000, env });
  return FioReport.parse(stdout, w.direction);
}

/** Fills the file or image with incompressible data, sequentially, so reads hit real extents (objects). */
export async function fillLocalTarget(target: LocalTarget): Promise<void> {
  const { args, env } = fioTarget(target);
  await runCommand("fio", ["--name=fill", ...args, "--rw=write", "--bs=1M", "--iodepth=8", "--output-format=terse"], { timeoutMs: 300_000, env });
}

/** Why the iSCSI benchmarks cannot run here (a tool they drive is missing), or undefined. */
export async function missingDataPathTool(): Promise<string | undefined> {
  for (const tool of ["tgtd", "tgtadm", "qemu-img", "fio", "mkfs.btrfs", "losetup"]) {
    const found = await runCommand("which", [tool], { timeoutMs: 5_000 }).then(() => true, () => false);
    if (!found) return `${tool} is not installed`;
  }
  return undefined;
}
