/**
 * Figures measured through the client against the real server: volume create latency, and
 * snapshot + clone of a 10 GiB thin volume holding 1 GiB of random data (written over iSCSI).
 * The figures are printed; the assertions only bound them loosely (constant-time snapshot/clone).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "../../provider/src/client";
import { toHexId } from "../../provider/src/wire";
import { startServer, type RunningServer } from "../support/dpl-server";
import { lunMatchesFile, writeFileToLun } from "./client-iscsi-io";

const execFileAsync = promisify(execFile);
const GiB = 2 ** 30;
const HOST = "iqn.2024-01.org.example.client-test:bench";

let server: RunningServer;
let client: DplClient;
let scratch: string;
/** Undo steps registered as things start, run in reverse even when beforeAll failed half-way. */
const teardown: Array<() => Promise<void>> = [];

const newId = (): string => toHexId(randomUUID());

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

beforeAll(async () => {
  const work = resolve(__dirname, "..", "..", ".work");
  mkdirSync(work, { recursive: true });
  scratch = mkdtempSync(join(work, "client-measure-"));
  teardown.push(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await Promise.resolve();
  });
  server = await startServer({ embeddedPoolSize: "12GiB" });
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ...(server.caPem === "" ? {} : { ca: server.caPem }) });
  teardown.push(() => client.close());
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

describe("figures", () => {
  it("creates a volume in p50 time well under a second (20 creates)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = newId();
      const [, ms] = await timed(() => client.createVolume(id, { poolId: server.poolId, sizeBytes: GiB }));
      times.push(ms);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) roundTrips.push((await timed(() => client.system()))[1]);
    roundTrips.sort((a, b) => a - b);
    console.log(`[client figures] GET /v1/dpl_system/ round trip, 20 runs: p50 ${percentile(roundTrips, 50).toFixed(1)} ms`);
    console.log(`[client figures] volume create (1 GiB thin), 20 runs: p50 ${percentile(sorted, 50).toFixed(1)} ms, p90 ${percentile(sorted, 90).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`);
    expect(percentile(sorted, 50)).toBeLessThan(1_000);
  });

  it("snapshots and clones a 10 GiB thin volume holding 1 GiB of random data in constant time", async () => {
    const data = join(scratch, "random-1GiB.raw");
    await execFileAsync("dd", ["if=/dev/urandom", `of=${data}`, "bs=1M", "count=1024", "status=none"], { timeout: 300_000 });

    const source = newId();
    await client.createVolume(source, { poolId: server.poolId, sizeBytes: 10 * GiB, name: "bench-source" });
    const { connections: [sourceLun] } = await client.assignIscsi(source, { initiators: [HOST] });
    if (sourceLun === undefined) throw new Error("no connection info");
    const [, writeMs] = await timed(() => writeFileToLun(data, sourceLun));
    const used = (await client.getVolume(source))?.metadata.used_capacity ?? 0;

    const snapId = newId();
    const [, snapshotMs] = await timed(() => client.createSnapshot(source, snapId, { name: "bench" }));
    const cloneId = newId();
    const [, cloneMs] = await timed(() => client.cloneVolume(cloneId, source, { name: "bench-clone" }));
    const copyId = newId();
    const [, copyMs] = await timed(() => client.copyFromSnapshot(copyId, source, snapId, { name: "bench-copy" }));
    // The first snapshot also commits the freshly written (dirty) 1 GiB; a second one shows the snapshot itself.
    const [, secondSnapshotMs] = await timed(() => client.createSnapshot(source, newId(), { name: "bench-2" }));

    console.log(
      `[client figures] 10 GiB thin volume, 1 GiB random data (written over iSCSI in ${(writeMs / 1000).toFixed(1)} s, ` +
        `${(1024 / (writeMs / 1000)).toFixed(0)} MiB/s; used_capacity ${(used / GiB).toFixed(2)} GiB): ` +
        `snapshot ${snapshotMs.toFixed(1)} ms (second snapshot ${secondSnapshotMs.toFixed(1)} ms), clone ${cloneMs.toFixed(1)} ms, ` +
        `copy-from-snapshot ${copyMs.toFixed(1)} ms`,
    );
    const { connections: [cloneLun] } = await client.assignIscsi(cloneId, { initiators: [HOST] });
    if (cloneLun === undefined) throw new Error("no connection info");
    expect(await lunMatchesFile(data, cloneLun, GiB)).toBe(true);
    // Not the first snapshot: it also waits for the 1 GiB just written to reach the disk, which a
    // busy disk can stretch past any bound. The second one and the clone show the copy-free cost.
    expect(secondSnapshotMs).toBeLessThan(5_000);
    expect(cloneMs).toBeLessThan(5_000);
  });
});
