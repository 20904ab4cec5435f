/**
 * Benchmark 4, the data path: sequential 1 MiB and random 4 KiB reads and writes at queue depth 1
 * and 32 through tgtd with a user-space initiator, against the same workload on the same backing
 * file locally with the same cache semantics (O_DIRECT on both sides, no flushes). The full mode
 * runs the tgtd tuning matrix and names the best settings. The same workloads then run on an rbd
 * pool's backing (an RBD image on a single-node Ceph cluster, tgtd's rbd backing store) against
 * fio's rbd engine on the same image.
 */
import { join } from "node:path";
import { compared, type Benchmark, type BenchmarkContext, type Mode } from "../framework/benchmark";
import { withBenchCephCluster } from "../fixtures/bench-ceph-cluster";
import { ScratchBtrfs } from "../fixtures/scratch-btrfs";
import { BenchTgtd } from "./bench-tgtd";
import { NULL_CEILING, RBD_SHIPPED, SHIPPED, STOCK, TUNING_MATRIX, describeSettings, type TgtdSettings } from "./tgtd-settings";
import {
  ALL_WORKLOADS, fillLocalTarget, missingDataPathTool, runLocally, runOverIscsi, type LocalTarget, type Workload, type WorkloadResult,
} from "./workloads";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

interface Plan {
  fileBytes: number;
  workloads: Workload[];
  settings: TgtdSettings[];
  secondsPerRun: number;
  /** Passes over local + every setting per workload; the median pass counts (noise is time-correlated). */
  rounds: number;
}

function planFor(mode: Mode): Plan {
  switch (mode) {
    case "smoke":
      return { fileBytes: 256 * MIB, workloads: ALL_WORKLOADS.slice(0, 1), settings: [SHIPPED], secondsPerRun: 0.5, rounds: 1 };
    case "quick":
      return { fileBytes: GIB, workloads: ALL_WORKLOADS, settings: [STOCK, SHIPPED], secondsPerRun: 2, rounds: 1 };
    case "full":
      return { fileBytes: 2 * GIB, workloads: ALL_WORKLOADS, settings: TUNING_MATRIX, secondsPerRun: 3, rounds: 3 };
  }
}

/** 1 MiB workloads are judged by bandwidth, 4 KiB ones by IOPS. */
function figure(w: Workload, r: WorkloadResult): { value: number; unit: string } {
  return w.blockBytes >= MIB ? { value: r.bytesPerSecond / MIB, unit: "MiB/s" } : { value: r.iops, unit: "IOPS" };
}

/** The targets: ≥ 1.0× local for sequential 1 MiB, ≥ 0.7× for 4 KiB at depth 32. */
function targetFor(w: Workload): { atLeast: number; description: string } | undefined {
  if (w.pattern === "sequential" && w.blockBytes === MIB) return { atLeast: 1.0, description: "≥ 1.0× local" };
  if (w.blockBytes === 4096 && w.depth === 32) return { atLeast: 0.7, description: "≥ 0.7× local" };
  return undefined;
}

/** The bound target: ≥ 0.85× of the bound at depth 32, and for 1 MiB at depth 1. */
function boundTargetFor(w: Workload): { atLeast: number; description: string } | undefined {
  return w.depth === 32 || w.blockBytes === MIB ? { atLeast: 0.85, description: "≥ 0.85× bound" } : undefined;
}

/**
 * What a co-located initiator can reach at best: the disk's work (local) and the transport's
 * (null backing store) share the same cores, so their times per request add up.
 */
export function combinedBound(local: number, ceiling: number): number {
  return 1 / (1 / local + 1 / ceiling);
}

/** The middle run by a figure (the upper middle of an even count). */
function medianBy<T>(runs: readonly T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error("no runs");
  return middle;
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

/** One pool backend's LUN backing and its local baseline. */
interface Backing {
  name: "btrfs" | "rbd";
  local: LocalTarget;
  localLabel: string;
  backingStore: string;
  rbdOptions?: string;
  settings: TgtdSettings[];
  /** The targets are on the btrfs backing (the embedded default); rbd is reported as measured. */
  judged: boolean;
}

/** Per series (backend and settings), one figure per workload, in workload order: the charts' data. */
interface BackingFigures {
  ratios: Map<string, number[]>;
  absolute: Map<string, number[]>;
}

function caseOf(backing: Backing, w: Workload, settingsName: string): string {
  return backing.name === "btrfs" ? `${w.label} [${settingsName}]` : `${w.label} [rbd: ${settingsName}]`;
}

async function measureBacking(ctx: BenchmarkContext, plan: Plan, backing: Backing): Promise<BackingFigures> {
  const series = (name: string): string => (backing.name === "btrfs" ? name : `rbd ${name}`);
  const targets: BenchTgtd[] = [];
  const ratios = new Map<string, number[]>(backing.settings.map((s) => [series(s.name), []]));
  const absolute = new Map<string, number[]>([[series("local"), []], [series(NULL_CEILING.name), []], ...backing.settings.map((s): [string, number[]] => [series(s.name), []])]);
  try {
    for (const settings of backing.settings) targets.push(await BenchTgtd.start(settings, backing.backingStore, backing.rbdOptions));
    const ceiling = await BenchTgtd.start(NULL_CEILING, backing.backingStore);
    targets.push(ceiling);
    const measured = targets.filter((t) => t !== ceiling);
    for (const w of plan.workloads) {
      const localRuns: WorkloadResult[] = [];
      const ceilingRuns: WorkloadResult[] = [];
      const remoteRuns = new Map<BenchTgtd, { result: WorkloadResult; cpuCores: number }[]>(measured.map((t) => [t, []]));
      for (let round = 0; round < plan.rounds; round++) {
        ctx.log(`${backing.name} ${w.label}: local (round ${round + 1}/${plan.rounds})`);
        localRuns.push(await runLocally(backing.local, w, plan.secondsPerRun));
        ctx.log(`${backing.name} ${w.label}: iSCSI ${NULL_CEILING.name}`);
        ceilingRuns.push(await runOverIscsi(ceiling.lunUrl, w, plan.secondsPerRun));
        for (const tgtd of measured) {
          ctx.log(`${backing.name} ${w.label}: iSCSI ${tgtd.settings.name}`);
          const cpuBefore = tgtd.cpuSeconds();
          const result = await runOverIscsi(tgtd.lunUrl, w, plan.secondsPerRun);
          remoteRuns.get(tgtd)?.push({ result, cpuCores: (tgtd.cpuSeconds() - cpuBefore) / result.seconds });
        }
      }
      const local = figure(w, medianBy(localRuns, (r) => r.iops));
      absolute.get(series("local"))?.push(local.value);
      const nullCeiling = figure(w, medianBy(ceilingRuns, (r) => r.iops));
      const bound = combinedBound(local.value, nullCeiling.value);
      ctx.record({ case: caseOf(backing, w, NULL_CEILING.name), metric: "throughput", unit: nullCeiling.unit, value: nullCeiling.value });
      absolute.get(series(NULL_CEILING.name))?.push(nullCeiling.value);
      for (const tgtd of measured) {
        const median = medianBy(remoteRuns.get(tgtd) ?? [], (r) => r.result.iops);
        const remote = figure(w, median.result);
        const isShipped = tgtd.settings === SHIPPED || tgtd.settings === RBD_SHIPPED;
        const judged = backing.judged && isShipped;
        const name = caseOf(backing, w, tgtd.settings.name);
        ctx.record(compared(
          { case: name, metric: "throughput", unit: remote.unit, value: remote.value, baseline: { label: backing.localLabel, value: local.value } },
          judged ? targetFor(w) : undefined,
        ));
        if (isShipped) {
          ctx.record(compared(
            { case: name, metric: "throughput vs bound", unit: remote.unit, value: remote.value, baseline: { label: "bound 1/(1/local + 1/null)", value: bound } },
            judged ? boundTargetFor(w) : undefined,
          ));
          ctx.record({ case: name, metric: "tgtd CPU (incl. probe)", unit: "cores", value: median.cpuCores });
        }
        ratios.get(series(tgtd.settings.name))?.push(remote.value / local.value);
        absolute.get(series(tgtd.settings.name))?.push(remote.value);
      }
    }
    for (const settings of backing.settings) {
      const r = ratios.get(series(settings.name)) ?? [];
      if (r.length > 0) ctx.record({ case: `all workloads [${series(settings.name)}]`, metric: "geomean iSCSI/local", unit: "×", value: geometricMean(r) });
    }
    if (backing.settings.length > 1) {
      const best = [...backing.settings].sort((a, b) => geometricMean(ratios.get(series(b.name)) ?? [1]) - geometricMean(ratios.get(series(a.name)) ?? [1]))[0];
      if (best !== undefined) ctx.note(`Best settings by geometric mean of iSCSI/local over all workloads: ${describeSettings(best)}`);
    }
    return { ratios, absolute };
  } finally {
    for (const tgtd of targets) await tgtd.stop();
  }
}

async function measureBtrfs(ctx: BenchmarkContext, plan: Plan): Promise<BackingFigures> {
  const fs = await ScratchBtrfs.create(ctx.workDir, plan.fileBytes + 2 * GIB);
  try {
    const file = join(fs.mountPoint, "data");
    const local: LocalTarget = { kind: "file", file, bytes: plan.fileBytes };
    ctx.log(`filling ${plan.fileBytes / MIB} MiB backing file`);
    await fillLocalTarget(local);
    return await measureBacking(ctx, plan, { name: "btrfs", local, localLabel: "local fio O_DIRECT", backingStore: file, settings: plan.settings, judged: true });
  } finally {
    await fs.dispose();
  }
}

function measureRbd(ctx: BenchmarkContext, plan: Plan): Promise<BackingFigures> {
  return withBenchCephCluster(ctx, async (cluster) => {
    const image = "data-path";
    await cluster.rbd("create", "--size", `${plan.fileBytes}B`, `${cluster.rbdPool}/${image}`);
    const local: LocalTarget = { kind: "rbd", cluster, image, bytes: plan.fileBytes };
    ctx.log(`rbd: filling a ${plan.fileBytes / MIB} MiB image`);
    await fillLocalTarget(local);
    return measureBacking(ctx, plan, {
      name: "rbd", local, localLabel: "local fio librbd", backingStore: `${cluster.rbdPool}/${image}`,
      rbdOptions: `conf=${cluster.conf};id=${cluster.client}`, settings: [RBD_SHIPPED], judged: false,
    });
  });
}

export const dataPathBenchmark: Benchmark = {
  name: "data-path",
  title: "4. Data path: iSCSI (tgtd + libiscsi) vs local, on btrfs and on rbd",

  unavailableReason: missingDataPathTool,

  async run(ctx: BenchmarkContext) {
    const plan = planFor(ctx.mode);
    const btrfs = await measureBtrfs(ctx, plan);
    const rbd = await measureRbd(ctx, plan);
    for (const settings of [...plan.settings, NULL_CEILING]) ctx.note(`tgtd settings ${describeSettings(settings)}`);
    ctx.note(`tgtd settings on rbd: ${describeSettings(RBD_SHIPPED)}`);
    ctx.note(
      "The bound: on a 2-core machine initiator, target and disk share the CPUs, so a co-located initiator can at best add the " +
        "transport's time per request (measured with tgtd's null backing store, no disk) to the disk's (local fio): " +
        "bound = 1 / (1/local + 1/null). \"throughput vs bound\" compares the shipped settings with it.",
    );
    ctx.note(
      "iSCSI: qemu-img bench over libiscsi, cache=none; local: fio libaio O_DIRECT on the same btrfs file (loop device over an ext4 image file). " +
        "tgtd CPU is measured over the whole qemu-img run, probe included, as a share of one core. " +
        `Each figure is the median of ${plan.rounds} pass(es) of ${plan.secondsPerRun} s over local and every setting in turn.`,
    );
    ctx.note(
      "rbd: an RBD image on a single-node Ceph cluster on this machine (one BlueStore OSD on a file, size 1), exported with tgtd's rbd " +
        "backing store as the server's rbd pools are; local is fio's rbd engine on the same image (librbd, the same Ceph client settings, no flushes). " +
        "The OSD, the monitor and the manager share the two cores with initiator and target. The targets are the btrfs backing's; rbd is reported as measured.",
    );

    const categories = plan.workloads.map((w) => w.label);
    const toSeries = (figures: Map<string, number[]>): { name: string; points: [number, number][] }[] =>
      [...figures.entries()].map(([name, values]) => ({ name, points: values.map((v, i): [number, number] => [i, v]) }));
    ctx.chart({
      file: "data-path-ratio",
      title: "iSCSI / local (1.0 = as fast as local)",
      xLabel: "workload",
      yLabel: "ratio to local",
      referenceY: 1,
      categories,
      series: toSeries(new Map([...btrfs.ratios, ...rbd.ratios])),
    });
    ctx.chart({
      file: "data-path-absolute",
      title: "Throughput (MiB/s for 1 MiB, IOPS for 4 KiB)",
      xLabel: "workload",
      yLabel: "MiB/s or IOPS (log)",
      logY: true,
      categories,
      series: toSeries(new Map([...btrfs.absolute, ...rbd.absolute])),
    });
  },
};
