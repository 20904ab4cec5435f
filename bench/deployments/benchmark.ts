/**
 * Benchmark 1, deployments: `pulumi up`, `preview`, `refresh` and `destroy` of programs with N
 * DPL resources (40% volumes, 30% snapshots, 20% clones from those snapshots, 10% iSCSI exports)
 * through the Automation API and the real engine, against the same DPL operations issued directly
 * through the provider's client with the same dependencies and the same parallelism (the limit
 * any tool could reach on this server). The ratio is the provider's and the engine's overhead.
 * An empty program's times are measured too: what of the overhead is fixed per command.
 */
import { DplClient } from "@prophetstor/dpl-provider/client";
import { compared, type Benchmark, type BenchmarkContext, type Measurement, type Mode } from "../framework/benchmark";
import { timed } from "../framework/latency-stats";
import { BenchServer, newObjectId } from "../fixtures/bench-server";
import { createProgramStack, installNativeProvider, preparePulumi } from "../../test/e2e/pulumi-stack";

const MIB = 2 ** 20;
/** Same for the engine (`--parallel`) and the direct client. */
const PARALLELISM = 16;
const INITIATOR = "iqn.2026-11.dev.dpl.bench:host";
const COMMANDS = ["up", "preview", "refresh", "destroy"] as const;
type Command = (typeof COMMANDS)[number];

interface Shape {
  volumes: number;
  snapshots: number;
  clones: number;
  exports: number;
}

function shapeOf(resources: number): Shape {
  const snapshots = Math.round(resources * 0.3);
  const clones = Math.round(resources * 0.2);
  const exports = Math.round(resources * 0.1);
  return { volumes: resources - snapshots - clones - exports, snapshots, clones, exports };
}

function planFor(mode: Mode): number[] {
  // DPL_BENCH_DEPLOYMENT_SIZES=1,100 runs chosen program sizes (e.g. without the long 1,000 case).
  const chosen = process.env.DPL_BENCH_DEPLOYMENT_SIZES?.split(",").map(Number).filter((n) => n > 0);
  if (chosen !== undefined && chosen.length > 0) return chosen;
  switch (mode) {
    case "smoke":
      return [1];
    case "quick":
      return [1, 10, 100];
    case "full":
      return [1, 10, 100, 1000];
  }
}

/** What the first DPL resource costs over the empty program (the provider host, its start, one serialization, one configure). */
const FIXED_COST_TARGET_S = 0.5;
/** What each further resource costs, between the two largest programs. */
const SLOPE_TARGET_MS: Partial<Record<Command, number>> = { preview: 15, up: 40, destroy: 40 };

function targetMet(value: number, atMost: number, description: string): Measurement["target"] {
  return { description, met: value <= atMost };
}

/** Fixed cost (1 resource vs empty) and slope (per resource between the two largest sizes), each against its target. */
function recordCosts(ctx: BenchmarkContext, empty: Record<Command, number>, times: Map<number, Record<Command, number>>): void {
  const sizes = [...times.keys()].sort((a, b) => a - b);
  const one = times.get(1);
  const [small, large] = sizes.slice(-2);
  for (const command of COMMANDS) {
    if (one !== undefined) {
      const fixed = (one[command] - empty[command]) / 1000;
      ctx.record({
        case: "fixed cost (1 resource − empty program)", metric: `pulumi ${command}`, unit: "s", value: fixed,
        ...(command === "refresh" ? {} : { target: targetMet(fixed, FIXED_COST_TARGET_S, `≤ ${FIXED_COST_TARGET_S} s`) }),
      });
    }
    if (small === undefined || large === undefined || small === large || small < 10) continue;
    const slope = ((times.get(large)?.[command] ?? 0) - (times.get(small)?.[command] ?? 0)) / (large - small);
    const target = SLOPE_TARGET_MS[command];
    ctx.record({
      case: `slope (per resource, ${small} → ${large})`, metric: `pulumi ${command}`, unit: "ms", value: slope,
      ...(target === undefined ? {} : { target: targetMet(slope, target, `≤ ${target} ms`) }),
    });
  }
}

function programSource(poolId: string, shape: Shape): string {
  return `import * as dpl from "@prophetstor/pulumi-dpl";
const pool = ${JSON.stringify(poolId)};
const volumes = Array.from({ length: ${shape.volumes} }, (_, i) => new dpl.Volume(\`vol-\${i}\`, { pool, sizeBytes: ${64 * MIB} }));
const snapshots = Array.from({ length: ${shape.snapshots} }, (_, i) => new dpl.Snapshot(\`snap-\${i}\`, { volume: volumes[i]! }));
Array.from({ length: ${shape.clones} }, (_, i) => new dpl.Clone(\`clone-\${i}\`, { sourceVolume: volumes[i]!, sourceSnapshot: snapshots[i]! }));
Array.from({ length: ${shape.exports} }, (_, i) => new dpl.ISCSIExport(\`export-\${i}\`, { volume: volumes[i]!, initiators: [${JSON.stringify(INITIATOR)}] }));
`;
}

/** The same program for the native provider plugin: the package's `dpl:index:*` types, resources passed by id. */
function nativeProgramSource(poolId: string, shape: Shape): string {
  return `import * as pulumi from "@pulumi/pulumi";
const dpl = (type: string, name: string, args: pulumi.Inputs) => new pulumi.CustomResource(\`dpl:index:\${type}\`, name, args);
const pool = ${JSON.stringify(poolId)};
const volumes = Array.from({ length: ${shape.volumes} }, (_, i) => dpl("Volume", \`vol-\${i}\`, { pool, sizeBytes: ${64 * MIB} }));
const snapshots = Array.from({ length: ${shape.snapshots} }, (_, i) => dpl("Snapshot", \`snap-\${i}\`, { volume: volumes[i]!.id }));
Array.from({ length: ${shape.clones} }, (_, i) => dpl("Clone", \`clone-\${i}\`, { sourceVolume: volumes[i]!.id, sourceSnapshot: snapshots[i]!.id }));
Array.from({ length: ${shape.exports} }, (_, i) => dpl("ISCSIExport", \`export-\${i}\`, { volume: volumes[i]!.id, initiators: [${JSON.stringify(INITIATOR)}] }));
`;
}

/** A tiny scheduler: each task starts once its dependencies finished, at most `limit` at once. */
async function runGraph(tasks: Map<string, { after: string[]; run: () => Promise<unknown> }>, limit: number): Promise<void> {
  const done = new Map<string, Promise<void>>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (running < limit) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  };
  const start = (name: string): Promise<void> => {
    const existing = done.get(name);
    if (existing !== undefined) return existing;
    const task = tasks.get(name);
    if (task === undefined) throw new Error(`unknown task ${name}`);
    const promise = (async () => {
      await Promise.all(task.after.map(start));
      await slot();
      try {
        await task.run();
      } finally {
        release();
      }
    })();
    done.set(name, promise);
    return promise;
  };
  await Promise.all([...tasks.keys()].map(start));
}

/** The program's objects made, read and deleted directly with the client, same graph and parallelism. */
async function directClient(client: DplClient, poolId: string, shape: Shape): Promise<Record<Command, number>> {
  const vol = Array.from({ length: shape.volumes }, newObjectId);
  const snap = Array.from({ length: shape.snapshots }, newObjectId);
  const clone = Array.from({ length: shape.clones }, newObjectId);
  type Tasks = Map<string, { after: string[]; run: () => Promise<unknown> }>;
  const up: Tasks = new Map();
  const reads: Tasks = new Map();
  const destroy: Tasks = new Map();
  vol.forEach((id, i) => {
    up.set(`v${i}`, { after: [], run: () => client.createVolume(id, { poolId, sizeBytes: 64 * MIB }) });
    reads.set(`v${i}`, { after: [], run: () => client.getVolume(id) });
    const dependents = [
      ...(i < shape.snapshots ? [`s${i}`] : []),
      ...(i < shape.exports ? [`e${i}`] : []),
    ];
    destroy.set(`v${i}`, { after: dependents, run: () => client.deleteVolume(id) });
  });
  snap.forEach((id, i) => {
    const volume = vol[i] ?? "";
    up.set(`s${i}`, { after: [`v${i}`], run: () => client.createSnapshot(volume, id) });
    reads.set(`s${i}`, { after: [], run: () => client.getSnapshot(volume, id) });
    destroy.set(`s${i}`, { after: i < shape.clones ? [`c${i}`] : [], run: () => client.deleteSnapshot(volume, id) });
  });
  clone.forEach((id, i) => {
    up.set(`c${i}`, { after: [`s${i}`], run: () => client.copyFromSnapshot(id, vol[i] ?? "", snap[i] ?? "") });
    reads.set(`c${i}`, { after: [], run: () => client.getVolume(id) });
    destroy.set(`c${i}`, { after: [], run: () => client.deleteVolume(id) });
  });
  for (let i = 0; i < shape.exports; i++) {
    const volume = vol[i] ?? "";
    up.set(`e${i}`, { after: [`v${i}`], run: () => client.assignIscsi(volume, { initiators: [INITIATOR] }) });
    reads.set(`e${i}`, { after: [], run: () => client.getVolume(volume) });
    destroy.set(`e${i}`, { after: [], run: () => client.unassignIscsi(volume, [INITIATOR]) });
  }
  const upMs = (await timed(() => runGraph(up, PARALLELISM))).ms;
  const readMs = (await timed(() => runGraph(reads, PARALLELISM))).ms;
  const destroyMs = (await timed(() => runGraph(destroy, PARALLELISM))).ms;
  return { up: upMs, preview: readMs, refresh: readMs, destroy: destroyMs };
}

async function pulumiCommands(bench: BenchServer, label: string, source: string, env: Record<string, string> = {}): Promise<Record<Command, number>> {
  const program = await createProgramStack(label, source, bench.server, {}, undefined, env);
  try {
    const quiet = { onOutput: () => undefined, parallel: PARALLELISM };
    const up = await timed(() => program.stack.up(quiet));
    const preview = await timed(() => program.stack.preview({ parallel: PARALLELISM }));
    const refresh = await timed(() => program.stack.refresh(quiet));
    const destroy = await timed(() => program.stack.destroy(quiet));
    return { up: up.ms, preview: preview.ms, refresh: refresh.ms, destroy: destroy.ms };
  } finally {
    await program.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
    await program.remove();
  }
}

export const deploymentsBenchmark: Benchmark = {
  name: "deployments",
  title: "1. Deployments: pulumi up/preview/refresh/destroy vs the direct client",

  async unavailableReason() {
    try {
      await preparePulumi();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  },

  async run(ctx: BenchmarkContext) {
    const bench = await BenchServer.start("16GiB");
    try {
      // Smoke runs only prove the path works: the empty program's fixed cost is left out.
      const empty: Record<Command, number> = { up: 0, preview: 0, refresh: 0, destroy: 0 };
      if (ctx.mode !== "smoke") {
        ctx.log("empty program (fixed cost per command)");
        Object.assign(empty, await pulumiCommands(bench, "bench-empty", "export const nothing = true;\n"));
        for (const command of COMMANDS) ctx.record({ case: "empty program", metric: `pulumi ${command}`, unit: "s", value: empty[command] / 1000 });
      }

      const series = new Map<Command, [number, number][]>();
      const times = new Map<number, Record<Command, number>>();
      for (const resources of planFor(ctx.mode)) {
        const shape = shapeOf(resources);
        ctx.log(`${resources} resources: direct client`);
        const direct = await directClient(bench.client, bench.poolId, shape);
        ctx.log(`${resources} resources: pulumi`);
        const pulumi = await pulumiCommands(bench, `bench-${resources}`, programSource(bench.poolId, shape));
        times.set(resources, pulumi);
        ctx.log(`${resources} resources: pulumi with the native provider`);
        const native = await pulumiCommands(bench, `bench-native-${resources}`, nativeProgramSource(bench.poolId, shape), { PULUMI_HOME: await installNativeProvider() });
        for (const command of COMMANDS) {
          ctx.record(compared({
            case: `${resources} resources`, metric: `native provider: pulumi ${command}`, unit: "s", value: native[command] / 1000,
            baseline: { label: `dynamic provider: pulumi ${command}`, value: pulumi[command] / 1000 },
          }));
        }
        for (const command of COMMANDS) {
          const baselineLabel = command === "preview" || command === "refresh" ? `direct: ${resources} reads` : `direct: ${resources} ${command === "up" ? "creates" : "deletes"}`;
          const judged = resources === 100 && command !== "preview";
          ctx.record(compared(
            { case: `${resources} resources`, metric: `pulumi ${command}`, unit: "s", value: pulumi[command] / 1000, baseline: { label: baselineLabel, value: direct[command] / 1000 } },
            judged ? { atMost: 1.2, description: "≤ 1.2× direct at 100" } : undefined,
          ));
          const perResourceOverheadMs = (pulumi[command] - empty[command] - direct[command]) / resources;
          if (ctx.mode !== "smoke") ctx.record({ case: `${resources} resources`, metric: `pulumi ${command} overhead per resource (fixed cost removed)`, unit: "ms", value: perResourceOverheadMs });
          series.set(command, [...(series.get(command) ?? []), [resources, pulumi[command] / direct[command]]]);
        }
      }
      if (ctx.mode !== "smoke") recordCosts(ctx, empty, times);
      ctx.note(`Shape: 40% volumes (thin 64 MiB), 30% snapshots, 20% clones from those snapshots, 10% iSCSI exports; pulumi --parallel ${PARALLELISM} and ${PARALLELISM} concurrent client calls in dependency order. Preview makes no DPL calls of its own; its baseline is the reads refresh needs.`);
      ctx.note("Native provider: the same programs on pulumi-resource-dpl (installed with `pulumi plugin install --file`), declared as `dpl:index:*` types; the ratio is native ÷ dynamic for the same command and size, in the same run.");
      ctx.note("Per-resource overhead = (pulumi time − empty program's time − direct time) ÷ resources: what the engine and the provider add for each resource once their start-up is paid.");
      ctx.note("Fixed cost = the 1-resource program's time − the empty program's: what the first DPL resource adds (the dynamic-provider host, its provider, its configure). Slope = (time at the largest size − time at the next) ÷ the resources between: what each further resource adds. Targets: fixed ≤ 0.5 s for up, preview and destroy; slope ≤ 15 ms for preview and ≤ 40 ms for up and destroy (refresh has none).");
      ctx.chart({
        file: "deployments-ratio",
        title: "pulumi / direct client at the same parallelism",
        xLabel: "resources",
        yLabel: "ratio",
        logX: true,
        series: [...series.entries()].map(([name, points]) => ({ name: `pulumi ${name}`, points })),
      });
    } finally {
      await bench.stop();
    }
  },
};
