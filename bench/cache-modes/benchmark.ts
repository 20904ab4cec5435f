/**
 * The measured effect of a volume's cache mode: the same LUN (one backing file on a btrfs over a
 * loop device, as a pool) served by three tgtds with the server's three backing-store flags —
 * direct (O_DIRECT), writethrough (O_SYNC) and writeback (page cache) — and driven by a
 * user-space initiator (qemu-img bench over libiscsi, cache=none: no flush per write unless the
 * workload asks for one). Figures are compared with direct (what the pool's device does; the
 * server's default is writeback).
 */
import { join } from "node:path";
import type { CacheMode } from "@prophetstor/dpl-provider/wire";
import { compared, type Benchmark, type BenchmarkContext, type Mode } from "../framework/benchmark";
import { ScratchBtrfs } from "../fixtures/scratch-btrfs";
import { runCommand } from "../../server/src/engines/command";
import { BenchTgtd } from "../data-path/bench-tgtd";
import { SHIPPED, type TgtdSettings } from "../data-path/tgtd-settings";
import { fillLocalTarget, missingDataPathTool, runOverIscsi, workload, type Workload, type WorkloadResult } from "../data-path/workloads";

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const KIB = 1024;

/** What the server passes to tgtd for each cache mode (server/src/engines/tgt/tgt-target-engine.ts). */
const MODES: { mode: CacheMode; bsoflags: TgtdSettings["bsoflags"] }[] = [
  { mode: "direct", bsoflags: "direct" },
  { mode: "writethrough", bsoflags: "sync" },
  { mode: "writeback", bsoflags: "" },
];

/** Reads first (the writes change the file's layout); a flushing variant shows what writeback's speed rests on. */
const WORKLOADS: Workload[] = [
  workload("read", "sequential", MIB, 32),
  workload("write", "random", 4 * KIB, 1),
  workload("write", "random", 4 * KIB, 32),
  { ...workload("write", "random", 4 * KIB, 1), id: "rand-write-4k-qd1-flush16", label: "rand 4 KiB write QD1, flush every 16", flushEvery: 16 },
  workload("write", "sequential", MIB, 32),
];

function planFor(mode: Mode): { fileBytes: number; workloads: Workload[]; secondsPerRun: number } {
  switch (mode) {
    case "smoke":
      return { fileBytes: 256 * MIB, workloads: WORKLOADS.slice(0, 2), secondsPerRun: 0.5 };
    case "quick":
      return { fileBytes: GIB, workloads: WORKLOADS, secondsPerRun: 2 };
    case "full":
      return { fileBytes: 2 * GIB, workloads: WORKLOADS, secondsPerRun: 5 };
  }
}

function figure(w: Workload, r: WorkloadResult): { value: number; unit: string } {
  return w.blockBytes >= MIB ? { value: r.bytesPerSecond / MIB, unit: "MiB/s" } : { value: r.iops, unit: "IOPS" };
}

export const cacheModesBenchmark: Benchmark = {
  name: "cache-modes",
  title: "6. Cache modes: direct vs writethrough vs writeback through tgtd",

  unavailableReason: missingDataPathTool,

  async run(ctx: BenchmarkContext) {
    const plan = planFor(ctx.mode);
    const fs = await ScratchBtrfs.create(ctx.workDir, plan.fileBytes + 2 * GIB);
    const targets: { mode: CacheMode; tgtd: BenchTgtd }[] = [];
    try {
      const file = join(fs.mountPoint, "data");
      ctx.log(`filling ${plan.fileBytes / MIB} MiB backing file`);
      await fillLocalTarget({ kind: "file", file, bytes: plan.fileBytes });
      for (const { mode, bsoflags } of MODES) targets.push({ mode, tgtd: await BenchTgtd.start({ ...SHIPPED, name: `cache-${mode}`, bsoflags }, file) });

      const series = new Map<CacheMode, number[]>(MODES.map(({ mode }) => [mode, []]));
      for (const w of plan.workloads) {
        const results = new Map<CacheMode, WorkloadResult>();
        for (const { mode, tgtd } of targets) {
          // Dirty pages a writeback run left must not be written back during the next run.
          await runCommand("sync", [], { timeoutMs: 120_000 });
          ctx.log(`${w.label}: ${mode}`);
          results.set(mode, await runOverIscsi(tgtd.lunUrl, w, plan.secondsPerRun));
        }
        const direct = results.get("direct");
        if (direct === undefined) throw new Error("no direct run");
        for (const { mode } of MODES) {
          const result = results.get(mode);
          if (result === undefined) continue;
          const f = figure(w, result);
          ctx.record(compared({ case: `${w.label} [${mode}]`, metric: "throughput", unit: f.unit, value: f.value, baseline: { label: "direct", value: figure(w, direct).value } }));
          series.get(mode)?.push(f.value / figure(w, direct).value);
        }
      }
      ctx.note(
        "One backing file on btrfs over a loop device (O_DIRECT on its image file), served by three tgtds at once with the server's flags per cache mode: " +
          "direct = --bsoflags direct, writethrough = --bsoflags sync, writeback = no flags. Initiator: qemu-img bench over libiscsi, cache=none; " +
          "no SYNCHRONIZE CACHE is sent except in the 'flush every 16' workload. `sync` runs before each run.",
      );
      ctx.chart({
        file: "cache-modes-ratio",
        title: "Cache mode / direct (1.0 = as fast as direct)",
        xLabel: "workload",
        yLabel: "ratio to direct (log)",
        logY: true,
        referenceY: 1,
        categories: plan.workloads.map((w) => w.label),
        series: MODES.map(({ mode }) => ({ name: mode, points: (series.get(mode) ?? []).map((v, i): [number, number] => [i, v]) })),
      });
    } finally {
      for (const { tgtd } of targets) await tgtd.stop();
      await fs.dispose();
    }
  },
};
