/**
 * `GET /metrics`: Prometheus text exposition (behind the same Basic auth as every route).
 * Pool figures are read from the engines at scrape time; request and job counters are kept as
 * they happen. Per-volume series multiply with the volume count, so they are opt-in.
 */
import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DplCore } from "../core/dpl-core";
import type { IoTotals } from "../core/io-stats-service";
import type { PoolView } from "../core/pool-service";

export interface MetricsOptions {
  /** Adds dpl_volume_size_bytes, dpl_volume_allocated_bytes and the volume I/O counters per volume. */
  perVolume: boolean;
}

const POOL_STATES = ["Online", "Degraded", "Offline"] as const;

interface PoolSample {
  labels: { pool: string; name: string };
  view: PoolView;
  state: (typeof POOL_STATES)[number];
  snapshots: number;
}

/**
 * Every pool gauge collects concurrently within one scrape; they share one engine read per pool
 * (kept for a second, so a scrape never reads a pool twice).
 */
function poolSampler(core: DplCore): () => Promise<PoolSample[]> {
  let cached: { at: number; samples: Promise<PoolSample[]> } | undefined;
  const load = async (): Promise<PoolSample[]> => {
    const samples: PoolSample[] = [];
    for (const pool of core.pools.list()) {
      const view = await core.pools.view(pool.id);
      samples.push({
        labels: { pool: pool.id, name: pool.name },
        view,
        state: pool.state === "available" ? view.health.state : "Offline",
        snapshots: core.pools.snapshotCount(pool.id),
      });
    }
    return samples;
  };
  return () => {
    if (cached === undefined || Date.now() - cached.at > 1000) cached = { at: Date.now(), samples: load() };
    return cached.samples;
  };
}

function poolCollectors(registry: Registry, core: DplCore): void {
  const samples = poolSampler(core);
  new Gauge({
    name: "dpl_pool_capacity_bytes",
    help: "Pool capacity by kind: total (usable after redundancy), used, free, provisioned (sum of volume sizes)",
    labelNames: ["pool", "name", "kind"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, view } of await samples()) {
        this.set({ ...labels, kind: "total" }, view.usage.totalBytes);
        this.set({ ...labels, kind: "used" }, view.usage.usedBytes);
        this.set({ ...labels, kind: "free" }, view.usage.freeBytes);
        this.set({ ...labels, kind: "provisioned" }, view.provisionedBytes);
      }
    },
  });
  new Gauge({
    name: "dpl_pool_state",
    help: "1 for the pool's current state (Online, Degraded, Offline), 0 for the others",
    labelNames: ["pool", "name", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, state } of await samples()) {
        for (const candidate of POOL_STATES) this.set({ ...labels, state: candidate }, candidate === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "dpl_pool_volumes",
    help: "Volumes in the pool",
    labelNames: ["pool", "name"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, view } of await samples()) this.set(labels, view.childIds.length);
    },
  });
  new Gauge({
    name: "dpl_pool_snapshots",
    help: "Snapshots in the pool",
    labelNames: ["pool", "name"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, snapshots } of await samples()) this.set(labels, snapshots);
    },
  });
  new Gauge({
    name: "dpl_pool_device_errors",
    help: "btrfs device error counters (read, write, flush, corruption, generation)",
    labelNames: ["pool", "device", "kind"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, view } of await samples()) {
        for (const device of view.health.devices) {
          for (const [kind, value] of Object.entries(device.errors)) this.set({ pool: labels.pool, device: device.deviceId, kind }, value);
        }
      }
    },
  });
  new Gauge({
    name: "dpl_pools",
    help: "Pools this server manages",
    registers: [registry],
    collect() {
      this.set(core.pools.list().length);
    },
  });
}

function volumeCollectors(registry: Registry, core: DplCore): void {
  new Gauge({
    name: "dpl_volume_size_bytes",
    help: "Logical size of the volume",
    labelNames: ["pool", "volume"],
    registers: [registry],
    collect() {
      this.reset();
      for (const volume of core.volumes.list()) this.set({ pool: volume.poolId, volume: volume.id }, volume.sizeBytes);
    },
  });
  new Gauge({
    name: "dpl_volume_allocated_bytes",
    help: "Bytes allocated to the volume's data (thin volumes grow with writes)",
    labelNames: ["pool", "volume"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const volume of core.volumes.list()) {
        if (volume.state !== "available") continue;
        const bytes = await core.volumes.allocatedBytes(volume).catch(() => undefined);
        if (bytes !== undefined) this.set({ pool: volume.poolId, volume: volume.id }, bytes);
      }
    },
  });
}

/**
 * I/O counters; Prometheus derives the rates: IOPS = rate(..._ops_total), throughput =
 * rate(..._bytes_total), pool latency = rate(dpl_pool_io_time_seconds_total) / rate(dpl_pool_io_ops_total).
 * Counters are set to the sampled totals (a pool's restart when its devices are attached again).
 */
function ioCollectors(registry: Registry, core: DplCore, perVolume: boolean): void {
  const kinds = [
    { suffix: "ops_total", help: "completed I/Os", read: (t: IoTotals) => t.readOps, write: (t: IoTotals) => t.writeOps },
    { suffix: "bytes_total", help: "bytes transferred", read: (t: IoTotals) => t.readBytes, write: (t: IoTotals) => t.writeBytes },
  ];
  const series: { scope: "pool" | "volume"; suffix: string; help: string; read: (t: IoTotals) => number; write: (t: IoTotals) => number }[] = [
    ...kinds.map((k) => ({ scope: "pool" as const, ...k, help: `Block ${k.help} of the pool's devices, by direction` })),
    { scope: "pool", suffix: "time_seconds_total", help: "Time the pool's device I/Os took, summed, by direction", read: (t) => t.readMs / 1000, write: (t) => t.writeMs / 1000 },
    ...(perVolume ? kinds.map((k) => ({ scope: "volume" as const, ...k, help: `iSCSI ${k.help} of the volume (SCSI commands by data direction, tgtd's counters), by direction` })) : []),
  ];
  for (const s of series) {
    new Counter({
      name: `dpl_${s.scope}_io_${s.suffix}`,
      help: s.help,
      labelNames: [s.scope, "direction"],
      registers: [registry],
      async collect() {
        this.reset();
        const sample = await core.ioStats.all();
        for (const [id, totals] of s.scope === "pool" ? sample.pools : sample.volumes) {
          this.inc({ [s.scope]: id, direction: "read" }, s.read(totals));
          this.inc({ [s.scope]: id, direction: "write" }, s.write(totals));
        }
      },
    });
  }
  if (perVolume) {
    new Counter({
      name: "dpl_volume_io_errors_total",
      help: "SCSI commands of the volume tgtd answered with an error",
      labelNames: ["volume"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [id, totals] of (await core.ioStats.all()).volumes) this.inc({ volume: id }, totals.errors);
      },
    });
  }
}

export function registerMetrics(app: FastifyInstance, core: DplCore, options: MetricsOptions): void {
  const registry = new Registry();
  const requests = new Counter({ name: "dpl_http_requests_total", help: "HTTP requests by method, route and status", labelNames: ["method", "route", "status"], registers: [registry] });
  const latency = new Histogram({
    name: "dpl_http_request_duration_seconds",
    help: "HTTP request latency by method, route and status (202 replies end before their job does)",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const jobs = new Counter({ name: "dpl_jobs_total", help: "Finished jobs by object type, operation and outcome (Complete, Error)", labelNames: ["object_type", "operation", "status"], registers: [registry] });
  core.jobs.onFinished((event) => {
    jobs.inc({ object_type: event.objectType, operation: event.operation, status: event.status });
  });
  let restartsCounted = 0;
  new Counter({
    name: "dpl_tgtd_restarts_total",
    help: "Times the watchdog found tgtd dead, restarted it and re-applied every export",
    registers: [registry],
    collect() {
      this.inc(core.watchdog.restarts - restartsCounted);
      restartsCounted = core.watchdog.restarts;
    },
  });
  new Gauge({ name: "dpl_exports", help: "iSCSI exports (one target per exported volume)", registers: [registry], collect() { this.set(core.exportService.list().length); } });
  poolCollectors(registry, core);
  if (options.perVolume) volumeCollectors(registry, core);
  ioCollectors(registry, core, options.perVolume);

  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, never the raw URL: ids would make a series per object.
    const labels = { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  app.get("/metrics", async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header("content-type", registry.contentType).send(text);
  });
}
