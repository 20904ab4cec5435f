/**
 * Benchmark 5, scale: one server grown to N volumes with one snapshot each (quick: 100 and
 * 1,000; full: up to 10,000). At each level: list, stats (pool detail: capacity and usage), create
 * and delete latency through the client, and the server's resident memory. The baseline of each
 * figure is the same figure at the first level, so the ratio says how it grows.
 */
import { type Benchmark, type BenchmarkContext, type Measurement, type Mode } from "../framework/benchmark";
import { sampleLatency, summarize } from "../framework/latency-stats";
import { BenchServer, newObjectId } from "../fixtures/bench-server";

const MIB = 2 ** 20;
/** Concurrent client calls while growing (the client's default connection count). */
const GROW_CONCURRENCY = 8;
const TARGET_LEVEL = 10_000;

interface Plan {
  levels: number[];
  samples: number;
}

function planFor(mode: Mode): Plan {
  switch (mode) {
    case "smoke":
      return { levels: [20], samples: 3 };
    case "quick":
      return { levels: [100, 1_000], samples: 10 };
    case "full":
      return { levels: [100, 1_000, 3_000, 10_000], samples: 20 };
  }
}

/** Runs `work` for every index with at most `limit` in flight. */
async function inParallel(count: number, limit: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const index = next++;
      await work(index);
    }
  });
  await Promise.all(lanes);
}

interface LevelFigures {
  listMs: number;
  statsMs: number;
  createMs: number;
  deleteMs: number;
  snapshotMs: number;
  rssMB: number;
}

export const scaleBenchmark: Benchmark = {
  name: "scale",
  title: "5. Scale: one server, N volumes + N snapshots",

  async run(ctx: BenchmarkContext) {
    const plan = planFor(ctx.mode);
    const bench = await BenchServer.start("16GiB");
    try {
      const { client, poolId } = bench;
      const volumes: string[] = [];
      const figures = new Map<number, LevelFigures>();
      for (const level of plan.levels) {
        const toAdd = level - volumes.length;
        ctx.log(`growing to ${level} volumes + ${level} snapshots`);
        const grown = Date.now();
        await inParallel(toAdd, GROW_CONCURRENCY, async () => {
          const id = newObjectId();
          await client.createVolume(id, { poolId, sizeBytes: 64 * MIB });
          await client.createSnapshot(id, newObjectId());
          volumes.push(id);
        });
        ctx.log(`grown in ${((Date.now() - grown) / 1000).toFixed(1)} s`);

        const list = summarize(await sampleLatency(plan.samples, async () => {
          const listed = await client.listVolumes();
          if (listed.length < level) throw new Error(`listed ${listed.length} volumes, expected at least ${level}`);
        }));
        const stats = summarize(await sampleLatency(plan.samples, () => client.getPool(poolId)));
        const extra = Array.from({ length: plan.samples }, () => newObjectId());
        const create = summarize(await sampleLatency(plan.samples, (i) => client.createVolume(extra[i] ?? "", { poolId, sizeBytes: 64 * MIB })));
        const snapshot = summarize(await sampleLatency(plan.samples, (i) => client.createSnapshot(extra[i] ?? "", newObjectId())));
        const remove = summarize(await sampleLatency(plan.samples, (i) => client.deleteVolume(extra[i] ?? "")));
        figures.set(level, {
          listMs: list.p50, statsMs: stats.p50, createMs: create.p50, deleteMs: remove.p50, snapshotMs: snapshot.p50, rssMB: bench.serverRssMB(),
        });
      }

      const first = plan.levels[0];
      const base = first === undefined ? undefined : figures.get(first);
      const rows: { key: keyof LevelFigures; label: string; unit: string; limit?: number }[] = [
        { key: "listMs", label: "list volumes p50", unit: "ms" },
        { key: "statsMs", label: "stats (pool detail) p50", unit: "ms", limit: 100 },
        { key: "createMs", label: "create volume p50", unit: "ms" },
        { key: "snapshotMs", label: "create snapshot p50", unit: "ms" },
        { key: "deleteMs", label: "delete volume p50", unit: "ms" },
        { key: "rssMB", label: "server memory (RSS)", unit: "MB", limit: 150 },
      ];
      for (const [level, f] of figures) {
        for (const row of rows) {
          const m: Measurement = { case: `${level.toLocaleString("en-US")} volumes + ${level.toLocaleString("en-US")} snapshots`, metric: row.label, unit: row.unit, value: f[row.key] };
          if (base !== undefined && level !== first) {
            m.baseline = { label: `at ${first}`, value: base[row.key] };
            m.ratio = f[row.key] / base[row.key];
          }
          if (row.limit !== undefined && level === TARGET_LEVEL) m.target = { description: `< ${row.limit} ${row.unit} at 10k`, met: f[row.key] < row.limit };
          ctx.record(m);
        }
      }
      if (!plan.levels.includes(TARGET_LEVEL)) {
        ctx.note("The targets (stats < 100 ms, memory < 150 MB) are judged at 10,000 volumes + 10,000 snapshots: run --full.");
      }
      ctx.note(`Volumes are thin 64 MiB, one snapshot each, grown with ${GROW_CONCURRENCY} concurrent client calls; latencies are sequential calls of the provider's client (Prefer: wait).`);
      ctx.chart({
        file: "scale-latency",
        title: "Latency (p50) vs number of volumes (+ as many snapshots)",
        xLabel: "volumes",
        yLabel: "p50 (ms)",
        logX: true,
        series: rows.filter((r) => r.unit === "ms").map((r) => ({ name: r.label, points: [...figures].map(([level, f]): [number, number] => [level, f[r.key]]) })),
      });
      ctx.chart({
        file: "scale-memory",
        title: "Server memory (RSS) vs number of volumes (+ as many snapshots)",
        xLabel: "volumes",
        yLabel: "MB",
        logX: true,
        series: [{ name: "server RSS", points: [...figures].map(([level, f]): [number, number] => [level, f.rssMB]) }],
      });
    } finally {
      await bench.stop();
    }
  },
};
