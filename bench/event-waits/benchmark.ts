/**
 * Benchmark 3, event waits: the time from an operation completing on the server (the event's
 * `finished`, the server's clock) to the provider noticing (its wait returning), across operation
 * lengths from milliseconds (a thin volume) to seconds (a clone into another pool, which copies
 * data). Each operation is sent without `Prefer` (202 + event_uuid) and then waited for with the
 * provider's own waitForEvent, in two ways: long-poll (`Prefer: wait`, the provider's default) and
 * plain polling with the client's default delays (what a server without long-poll gets).
 * Both run on one machine, so both clocks are the same clock.
 */
import { DplClientOptions } from "../../provider/src/client/options";
import { DplTransport, type OperationContext } from "../../provider/src/client/transport";
import { waitForEvent } from "../../provider/src/client/event-wait";
import { AcceptedReply } from "@prophetstor/dpl-provider/wire";
import { runCommand } from "../../server/src/engines/command";
import { type Benchmark, type BenchmarkContext, type Mode } from "../framework/benchmark";
import { summarize } from "../framework/latency-stats";
import { BenchServer, newObjectId } from "../fixtures/bench-server";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

interface OperationKind {
  label: string;
  /** Sends the request (no Prefer) and returns the object path its event belongs to. */
  send(transport: DplTransport, ctx: OperationContext, newId: string): Promise<{ path: string; eventId: string }>;
}

interface Plan {
  repetitions: number;
  crossPoolDataMiB: number[];
}

function planFor(mode: Mode): Plan {
  switch (mode) {
    case "smoke":
      return { repetitions: 2, crossPoolDataMiB: [] };
    case "quick":
      return { repetitions: 6, crossPoolDataMiB: [64, 512] };
    case "full":
      return { repetitions: 20, crossPoolDataMiB: [64, 512, 2048] };
  }
}

const WAIT_MODES = [
  { name: "long-poll", preferWaitSeconds: 20 },
  { name: "polling", preferWaitSeconds: 0 },
] as const;

async function put(transport: DplTransport, ctx: OperationContext, path: string, body: unknown): Promise<{ path: string; eventId: string }> {
  const reply = await transport.send(ctx, { method: "PUT", path, body });
  if (reply.status !== 202) throw new Error(`${ctx.operation}: expected 202 without Prefer, got ${reply.status}: ${reply.text.slice(0, 300)}`);
  return { path, eventId: transport.parse(ctx, AcceptedReply, reply).metadata.event_uuid };
}

export const eventWaitsBenchmark: Benchmark = {
  name: "event-waits",
  title: "3. Event waits: server completion → provider notices",

  async run(ctx: BenchmarkContext) {
    const plan = planFor(ctx.mode);
    // Deleted volumes' space comes back only when btrfs's cleaner has run: room to spare.
    const bench = await BenchServer.start("24GiB");
    try {
      const poolId = bench.poolId;
      const sourceId = newObjectId();
      await bench.client.createVolume(sourceId, { poolId, sizeBytes: 4 * GIB });
      let otherPool: string | undefined;
      const kinds: OperationKind[] = [
        {
          label: "create thin 1 GiB volume",
          send: (t, c, id) => put(t, c, `/v1/dpl_volume/${id}/`, { metadata: { pool_uuid: poolId, total_capacity: GIB, properties: { thin_provision: true } } }),
        },
        {
          label: "create thick 256 MiB volume",
          send: (t, c, id) => put(t, c, `/v1/dpl_volume/${id}/`, { metadata: { pool_uuid: poolId, total_capacity: 256 * MIB, properties: { thin_provision: false } } }),
        },
        {
          label: "clone in pool",
          send: (t, c, id) => put(t, c, `/v1/dpl_volume/${id}/`, { metadata: { snapshot_operation: "clone" }, copy: sourceId }),
        },
      ];
      if (plan.crossPoolDataMiB.length > 0) {
        otherPool = newObjectId();
        await bench.client.createPool(otherPool, { name: "bench-other", devices: [{ type: "image_file", size: 12 * GIB }] });
      }
      for (const dataMiB of plan.crossPoolDataMiB) {
        const target = otherPool;
        if (target === undefined) break;
        const source = newObjectId();
        await bench.client.createVolume(source, { poolId, sizeBytes: 4 * GIB });
        await runCommand("fio", [
          "--name=fill", `--filename=${bench.volumeDataPath(poolId, source)}`, `--size=${dataMiB * MIB}`, "--rw=write", "--bs=1M",
          "--ioengine=libaio", "--iodepth=8", "--direct=1", "--output-format=terse",
        ], { timeoutMs: 300_000 });
        kinds.push({
          label: `clone to other pool, ${dataMiB} MiB data`,
          send: (t, c, id) => put(t, c, `/v1/dpl_volume/${id}/`, { metadata: { snapshot_operation: "clone", pool_uuid: target }, copy: source }),
        });
      }

      const series = new Map<string, [number, number][]>();
      for (const waitMode of WAIT_MODES) {
        const options = DplClientOptions.resolve({
          endpoint: bench.server.url, username: bench.server.username, password: bench.server.password, ca: bench.server.caPem,
        });
        const transport = new DplTransport(options);
        try {
          for (const kind of kinds) {
            const noticing: number[] = [];
            const lengths: number[] = [];
            for (let i = 0; i < plan.repetitions; i++) {
              const id = newObjectId();
              const opCtx: OperationContext = { operation: kind.label, objectId: id, deadline: Date.now() + 600_000, timeoutMs: 600_000 };
              const sent = await kind.send(transport, opCtx, id);
              await waitForEvent(transport, opCtx, { objectPath: sent.path, eventId: sent.eventId, notFoundMeansDone: false }, {
                preferWaitSeconds: waitMode.preferWaitSeconds,
                pollDelaysMs: options.eventPollDelaysMs,
              });
              const noticed = Date.now();
              const event = await bench.event(sent.path, sent.eventId);
              if (event.finished === null) throw new Error(`event ${sent.eventId} has no finish time after the wait returned`);
              noticing.push(noticed - event.finished);
              lengths.push(event.finished - event.started);
              await bench.client.deleteVolume(id);
            }
            const notice = summarize(noticing);
            const length = summarize(lengths);
            const label = `${kind.label} [${waitMode.name}]`;
            const fields = { case: label, metric: "notice delay p90", unit: "ms", value: notice.p90 };
            ctx.record(waitMode.name === "long-poll" ? { ...fields, target: { description: "≤ 100 ms", met: notice.p90 <= 100 } } : fields);
            ctx.record({ case: label, metric: "notice delay p50", unit: "ms", value: notice.p50 });
            ctx.record({ case: label, metric: "operation length p50", unit: "ms", value: length.p50 });
            series.set(waitMode.name, [...(series.get(waitMode.name) ?? []), [Math.max(1, length.p50), notice.p90]]);
          }
        } finally {
          await transport.close();
        }
      }
      ctx.note("Notice delay = when the provider's waitForEvent returned minus the event's server-side finish time (ms, one clock).");
      ctx.note(`Polling uses the client's default delays between polls (${DplClientOptions.resolve({ endpoint: "https://x:1", password: "" }).eventPollDelaysMs.join(", ")} ms, the last repeating).`);
      ctx.chart({
        file: "event-waits",
        title: "Notice delay (p90) vs operation length",
        xLabel: "operation length p50 (ms, log)",
        yLabel: "notice delay p90 (ms)",
        logX: true,
        series: [...series.entries()].map(([name, points]) => ({ name, points: [...points].sort((a, b) => a[0] - b[0]) })),
      });
      if (otherPool !== undefined) await bench.client.deletePool(otherPool, { force: true });
    } finally {
      await bench.stop();
    }
  },
};
