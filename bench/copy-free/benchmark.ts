/**
 * Benchmark 2, copy-free operations: snapshot, clone, copy-from-snapshot and rollback latency on
 * the server's btrfs engine (BtrfsPoolEngine, the code the server runs) for volumes of 1, 10 and
 * 100 GiB logical size holding 1 GiB of data in ~1,000 and in ~100,000 extents, against a full
 * copy of the same data. Cost must follow metadata, not size.
 */
import { join } from "node:path";
import { runCommand } from "../../server/src/engines/command";
import { BtrfsPoolEngine } from "../../server/src/engines/btrfs/btrfs-pool-engine";
import { BtrfsVolumeEngine } from "../../server/src/engines/btrfs/btrfs-volume-engine";
import type { PoolDeviceRecord } from "../../server/src/core/ports";
import { releaseOnSignal } from "../framework/cleanup-on-signal";
import { type Benchmark, type BenchmarkContext, type Mode } from "../framework/benchmark";
import { sampleLatency, summarize } from "../framework/latency-stats";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

/** How the 1 GiB of data is laid out: one extent per O_DIRECT write, written in random order. */
interface Layout {
  name: string;
  blockBytes: number;
}
const LAYOUT_1K: Layout = { name: "1,024 extents", blockBytes: MIB };
const LAYOUT_100K: Layout = { name: "131,072 extents", blockBytes: 8 * 1024 };

interface Plan {
  sizesGiB: number[];
  layouts: Layout[];
  repetitions: number;
  /** Rollback of ~100,000 extents takes seconds: fewer runs. */
  rollbackRepetitions: number;
  fullCopyRepetitions: number;
}

function planFor(mode: Mode): Plan {
  switch (mode) {
    case "smoke":
      return { sizesGiB: [1], layouts: [LAYOUT_1K], repetitions: 2, rollbackRepetitions: 2, fullCopyRepetitions: 1 };
    case "quick":
      return { sizesGiB: [1, 100], layouts: [LAYOUT_1K, LAYOUT_100K], repetitions: 5, rollbackRepetitions: 3, fullCopyRepetitions: 1 };
    case "full":
      return { sizesGiB: [1, 10, 100], layouts: [LAYOUT_1K, LAYOUT_100K], repetitions: 21, rollbackRepetitions: 7, fullCopyRepetitions: 2 };
  }
}

const OPERATIONS = ["snapshot", "clone", "copy-from-snapshot", "rollback (swap)", "rollback (in place)"] as const;
type Operation = (typeof OPERATIONS)[number];

/** Writes 1 GiB at the start of the file with O_DIRECT in random block order: one extent per write. */
async function writeData(file: string, layout: Layout): Promise<void> {
  await runCommand("fio", [
    "--name=layout", `--filename=${file}`, `--size=${GIB}`, "--rw=randwrite", `--bs=${layout.blockBytes}`,
    "--iodepth=16", "--ioengine=libaio", "--direct=1", "--random_generator=lfsr", "--output-format=terse",
  ], { timeoutMs: 600_000 });
  await runCommand("sync", ["-f", file]);
}

async function extentCount(file: string): Promise<number> {
  const { stdout } = await runCommand("filefrag", [file], { timeoutMs: 120_000 });
  const match = /(\d+) extents? found/.exec(stdout);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
}

export const copyFreeBenchmark: Benchmark = {
  name: "copy-free",
  title: "2. Copy-free operations: snapshot, clone, copy-from-snapshot, rollback vs a full copy",

  async unavailableReason() {
    for (const tool of ["mkfs.btrfs", "fio", "filefrag"]) {
      const found = await runCommand("which", [tool], { timeoutMs: 5_000 }).then(() => true, () => false);
      if (!found) return `${tool} is not installed`;
    }
    return undefined;
  },

  async run(ctx: BenchmarkContext) {
    const plan = planFor(ctx.mode);
    const engine = new BtrfsPoolEngine({ stateDir: ctx.workDir });
    const volumeEngine = new BtrfsVolumeEngine({ stateDir: ctx.workDir });
    const poolId = "bench";
    let devices: PoolDeviceRecord[] | undefined;
    const forgetSignalRelease = releaseOnSignal(async () => {
      if (devices !== undefined) await engine.destroyPool(poolId, devices);
    });
    try {
      devices = await engine.createPool(poolId, "single", "none", [{ type: "image_file", size: 8 * GIB }]);
      const p50 = new Map<string, [number, number][]>();
      const addPoint = (series: string, sizeGiB: number, ms: number): void => {
        p50.set(series, [...(p50.get(series) ?? []), [sizeGiB, ms]]);
      };
      const byCase = new Map<string, number>();

      for (const layout of plan.layouts) {
        let previous: string | undefined;
        for (const sizeGiB of plan.sizesGiB) {
          const volume = `v${sizeGiB}g-${layout.blockBytes}`;
          const label = `${sizeGiB} GiB volume, 1 GiB data, ${layout.name}`;
          await volumeEngine.createVolume(poolId, volume, sizeGiB * GIB, true, "none");
          const data = volumeEngine.volumeDataPath(poolId, volume);
          if (previous === undefined) {
            ctx.log(`${label}: writing data`);
            await writeData(data, layout);
          } else {
            // Writing 100,000 scattered extents takes a minute; the next size gets the same extents by
            // reflink, and the previous volume is deleted first, so none of them is shared when measured.
            ctx.log(`${label}: reflinking the data of the previous size`);
            await runCommand("cp", ["--reflink=always", volumeEngine.volumeDataPath(poolId, previous), data], { timeoutMs: 600_000 });
            await volumeEngine.resizeVolume(poolId, volume, sizeGiB * GIB, true);
            await volumeEngine.deleteVolume(poolId, previous);
            await runCommand("sync", ["-f", data]);
          }
          const extents = await extentCount(data);

          // Baseline: a full copy of the data file, made durable like a btrfs transaction commit.
          const copyPath = join(engine.mountPoint(poolId), "full-copy");
          const fullCopy = summarize(await sampleLatency(plan.fullCopyRepetitions, async () => {
            await runCommand("cp", ["--reflink=never", "--sparse=always", data, copyPath], { timeoutMs: 600_000 });
            await runCommand("sync", ["-f", copyPath]);
          }, () => runCommand("rm", ["-f", copyPath])));
          const baseline = { label: "full copy", value: fullCopy.p50 };
          addPoint(`full copy, ${layout.name}`, sizeGiB, fullCopy.p50);

          await volumeEngine.createSnapshot(poolId, volume, `${volume}-base`);
          const timings: Record<Operation, number[]> = {
            snapshot: await sampleLatency(plan.repetitions,
              (i) => volumeEngine.createSnapshot(poolId, volume, `${volume}-s${i}`),
              (i) => volumeEngine.deleteSnapshot(poolId, `${volume}-s${i}`)),
            clone: await sampleLatency(plan.repetitions,
              (i) => volumeEngine.volumeFromVolume(poolId, volume, `${volume}-c${i}`),
              (i) => volumeEngine.deleteVolume(poolId, `${volume}-c${i}`)),
            "copy-from-snapshot": await sampleLatency(plan.repetitions,
              (i) => volumeEngine.volumeFromSnapshot(poolId, `${volume}-base`, `${volume}-f${i}`),
              (i) => volumeEngine.deleteVolume(poolId, `${volume}-f${i}`)),
            "rollback (swap)": await sampleLatency(plan.rollbackRepetitions, () => volumeEngine.rollbackVolume(poolId, volume, `${volume}-base`, "swap")),
            "rollback (in place)": await sampleLatency(plan.rollbackRepetitions, () => volumeEngine.rollbackVolume(poolId, volume, `${volume}-base`, "in-place")),
          };
          for (const operation of OPERATIONS) {
            const summary = summarize(timings[operation]);
            byCase.set(`${operation}|${layout.name}|${sizeGiB}`, summary.p50);
            addPoint(`${operation}, ${layout.name}`, sizeGiB, summary.p50);
            // The targets are on snapshot and clone; rollbacks are reported as measured.
            const copyFree = !operation.startsWith("rollback");
            const measurement = {
              case: `${operation}: ${label}`, metric: "p50", unit: "ms", value: summary.p50, baseline,
              ratio: summary.p50 / fullCopy.p50,
            };
            ctx.record(copyFree
              ? { ...measurement, target: { description: "p50 < 50 ms", met: summary.p50 < 50 } }
              : measurement);
            ctx.record({ case: `${operation}: ${label}`, metric: "p90", unit: "ms", value: summary.p90 });
          }
          ctx.note(`${label}: filefrag counts ${extents.toLocaleString("en-US")} extents; full copy p50 ${fullCopy.p50.toFixed(0)} ms (${fullCopy.count} runs).`);
          await volumeEngine.deleteSnapshot(poolId, `${volume}-base`);
          previous = volume;
        }
        if (previous !== undefined) await volumeEngine.deleteVolume(poolId, previous);
      }

      const smallest = plan.sizesGiB[0];
      const largest = plan.sizesGiB[plan.sizesGiB.length - 1];
      if (smallest !== undefined && largest !== undefined && largest !== smallest) {
        for (const layout of plan.layouts) {
          for (const operation of OPERATIONS) {
            const small = byCase.get(`${operation}|${layout.name}|${smallest}`);
            const large = byCase.get(`${operation}|${layout.name}|${largest}`);
            if (small === undefined || large === undefined) continue;
            const ratio = large / small;
            const fields = {
              case: `${operation}: ${largest} GiB vs ${smallest} GiB, ${layout.name}`, metric: "p50 ratio", unit: "ms", value: large,
              baseline: { label: `${smallest} GiB`, value: small }, ratio,
            };
            ctx.record(operation.startsWith("rollback") ? fields : { ...fields, target: { description: "≤ 1.5×", met: ratio <= 1.5 } });
          }
        }
      }
      ctx.note("Engine-level latency (BtrfsPoolEngine, as the server calls it; HTTP not included). Snapshot, clone and copy-from-snapshot are btrfs subvolume snapshots; rollback (swap), what an unexported volume gets, renames a writable snapshot of the snapshot into the volume's place; rollback (in place), what an exported volume gets so tgtd's open file serves the result, reflinks (FICLONE) the snapshot's file over the volume's and follows the extent count.");
      ctx.chart({
        file: "copy-free-latency",
        title: "p50 latency vs logical volume size (1 GiB of data)",
        xLabel: "logical size (GiB)",
        yLabel: "p50 (ms, log)",
        logX: true,
        logY: true,
        series: [...p50.entries()].map(([name, points]) => ({ name, points })),
      });
    } finally {
      forgetSignalRelease();
      if (devices !== undefined) await engine.destroyPool(poolId, devices);
    }
  },
};
