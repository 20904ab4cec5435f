/**
 * The `dpl` admin command against the real server, and dedupe as a job: two volumes holding the
 * same data (written through iSCSI) share it after `dpl pool dedupe`, while an initiator writes
 * to one of them during the job; every byte reads back as written. The server runs with
 * --per-volume-metrics, so /metrics has per-volume series.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, type IscsiConnection } from "../../provider/src/client";
import { DedupeResult, toHexId } from "../../provider/src/wire";
import { runDplCli } from "../support/dpl-cli";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, lunMatchesFile, writeFileToLun, writePattern } from "./client-iscsi-io";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const HOST = "iqn.2024-01.org.example.dedupe:host1";
const SHARED_BYTES = 96 * MiB;
/** Written during the dedupe, beyond the shared data. */
const LIVE_WRITE = { offset: 100 * MiB, length: 16 * MiB, byte: 0x5a };
const repoRoot = resolve(__dirname, "..", "..");

let server: RunningServer;
let client: DplClient;
let scratch: string;
let poolId: string;
const teardown: Array<() => Promise<void>> = [];
const newId = (): string => toHexId(randomUUID());

/** Runs `dpl ...`; resolves with its stdout and exit status. */
function dpl(args: string[]): ReturnType<typeof runDplCli> {
  return runDplCli(server, args);
}

async function exportedVolume(sizeBytes: number, name: string): Promise<{ id: string; connection: IscsiConnection }> {
  const id = newId();
  await client.createVolume(id, { poolId, sizeBytes, name });
  const { connections } = await client.assignIscsi(id, { initiators: [HOST] });
  const [connection] = connections;
  if (connection === undefined) throw new Error("no connection info");
  return { id, connection };
}

beforeAll(async () => {
  scratch = mkdtempSync(join(repoRoot, ".work", "dedupe-cli-"));
  teardown.push(() => {
    rmSync(scratch, { recursive: true, force: true });
    return Promise.resolve();
  });
  server = await startServer({ embeddedPoolSize: "1GiB", extraArgs: ["--per-volume-metrics"] });
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  teardown.push(() => client.close());
  poolId = newId();
  await client.createPool(poolId, { name: "dedupe", devices: [{ type: "image_file", size: 2 * GiB }] });
  // The CLI runs from provider/dist; the server harness built it (tsc -b server builds provider).
  await execFileAsync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-b", "provider"], { cwd: repoRoot, timeout: 240_000 });
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

describe("dedupe through the dpl command", () => {
  it("saves the duplicated bytes while an initiator writes, and every byte reads back as written", async () => {
    const shared = join(scratch, "shared.raw");
    writeFileSync(shared, randomBytes(SHARED_BYTES));
    const first = await exportedVolume(128 * MiB, "first");
    const second = await exportedVolume(128 * MiB, "second");
    await writeFileToLun(shared, first.connection);
    await writeFileToLun(shared, second.connection);

    const job = { done: false };
    const finished = dpl(["--json", "pool", "dedupe", poolId]).finally(() => {
      job.done = true;
    });
    // Write to the deduped volume, beyond its shared data, back to back until the command has
    // exited, so the writes cover the whole job however long the command takes to start (a fixed
    // number of writes could all finish before a slow start even reached the server). The slots
    // are rewritten in turn; each keeps the pattern of its last write.
    const slots = LIVE_WRITE.length / MiB;
    const writes: Array<{ offset: number; byte: number; start: number; end: number }> = [];
    const writeDeadline = Date.now() + 120_000;
    for (let i = 0; !job.done && Date.now() < writeDeadline; i++) {
      const offset = LIVE_WRITE.offset + (i % slots) * MiB;
      const byte = (LIVE_WRITE.byte + i) & 0xff;
      const start = Date.now();
      await writePattern(first.connection, byte, offset, MiB);
      writes.push({ offset, byte, start, end: Date.now() });
    }
    const { stdout, stderr, status } = await finished;
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const parsed = DedupeResult.parse(JSON.parse(stdout));
    const during = writes.filter((w) => w.end >= parsed.started && w.start <= parsed.finished);
    console.log(`dedupe: ${JSON.stringify(parsed)}; job took ${parsed.finished - parsed.started} ms; ${during.length} of ${writes.length} 1 MiB writes overlapped it`);
    expect(during.length).toBeGreaterThan(0);
    expect(parsed.bytes_saved).toBeGreaterThanOrEqual(64 * MiB);
    expect(parsed.files_scanned).toBe(2);

    expect(await lunMatchesFile(shared, first.connection, SHARED_BYTES)).toBe(true);
    expect(await lunMatchesFile(shared, second.connection, SHARED_BYTES)).toBe(true);
    const lastWriteAt = new Map(writes.map((w) => [w.offset, w.byte]));
    for (const [offset, byte] of lastWriteAt) expect(await holdsPattern(first.connection, byte, offset, MiB)).toBe(true);

    const pool = await client.getPool(poolId);
    expect(pool?.metadata.last_dedupe?.bytes_saved).toBe(parsed.bytes_saved);
  });
});

describe("dpl listings", () => {
  it("lists pools, volumes, exports and health as tables and as JSON", async () => {
    const pools = await dpl(["pools"]);
    expect(pools.status).toBe(0);
    expect(pools.stdout).toContain(poolId);
    expect(pools.stdout).toMatch(/│\s*name\s*│/);

    const volumes = JSON.parse((await dpl(["--json", "volumes", "--pool", poolId])).stdout) as Array<{ display_name: string }>;
    expect(volumes.map((v) => v.display_name).sort()).toEqual(["first", "second"]);

    const exports = JSON.parse((await dpl(["--json", "exports"])).stdout) as Array<{ initiators: string[] }>;
    expect(exports).toHaveLength(2);
    expect(exports.every((e) => e.initiators.includes(HOST))).toBe(true);

    const health = await dpl(["--json", "health"]);
    expect(health.status).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ healthy: true, capabilities: { scrub: true, dedupe: true } });

    const scrub = await dpl(["--json", "pool", "scrub", poolId]);
    expect(scrub.status).toBe(0);
    expect(JSON.parse(scrub.stdout)).toMatchObject({ pool_uuid: poolId, errors_found: 0, uncorrectable_errors: 0 });

    const snapshots = await dpl(["--json", "snapshots"]);
    expect(JSON.parse(snapshots.stdout)).toEqual([]);
  });

  it("fails with a clear message and status 1 when the server refuses", async () => {
    const missing = await dpl(["pool", "scrub", newId()]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^dpl: .*NOT_FOUND/m);
  });
});

describe("per-volume metrics (--per-volume-metrics)", () => {
  it("exposes each volume's size and allocated bytes", async () => {
    const text = (await dplRequest(server, "GET", "/metrics")).text;
    const allocated = [...text.matchAll(/^dpl_volume_allocated_bytes\{pool="([0-9a-f]{32})",volume="[0-9a-f]{32}"\} (\d+)$/gm)]
      .filter((m) => m[1] === poolId)
      .map((m) => Number(m[2]));
    expect(allocated).toHaveLength(2);
    expect(allocated.every((bytes) => bytes >= SHARED_BYTES)).toBe(true);
    expect(text).toMatch(new RegExp(`^dpl_volume_size_bytes\\{pool="${poolId}",volume="[0-9a-f]{32}"\\} ${128 * MiB}$`, "m"));
  });
});
