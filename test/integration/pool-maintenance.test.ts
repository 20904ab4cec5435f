/**
 * Self-heal, compression and monitoring on the real server: a raid1 pool of two image files has
 * blocks of ONE image overwritten behind btrfs's back; reads through iSCSI still return the data
 * written, and a scrub job (with moving progress) repairs the rest. A zstd pool reports its
 * compression ratio; /metrics exposes pools, requests and jobs.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, type IscsiConnection } from "../../provider/src/client";
import { toHexId } from "../../provider/src/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { lunMatchesFile, writeFileToLun } from "./client-iscsi-io";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const BLOCK = 4096;
const MARKER = "DPLSCRUBMARK";
const HOST = "iqn.2024-01.org.example.maintenance:host1";
const MARKED_BLOCKS = 4096; // 16 MiB of marked blocks
const FILLER_BYTES = 512 * MiB;
/** Read through iSCSI before the scrub (read-repair may fix these) … */
const READ_REGION = { first: 0, count: 64 };
/** … and never read before it: only the scrub can repair these. */
const SCRUB_REGION = { first: 2048, count: 64 };

let server: RunningServer;
let client: DplClient;
let scratch: string;
const teardown: Array<() => Promise<void>> = [];
const newId = (): string => toHexId(randomUUID());

beforeAll(async () => {
  scratch = mkdtempSync(join(resolve(__dirname, "..", "..", ".work"), "maintenance-"));
  teardown.push(() => {
    rmSync(scratch, { recursive: true, force: true });
    return Promise.resolve();
  });
  server = await startServer({ embeddedPoolSize: "1GiB" });
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  teardown.push(() => client.close());
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

async function exportedVolume(poolId: string, sizeBytes: number): Promise<IscsiConnection> {
  const id = newId();
  await client.createVolume(id, { poolId, sizeBytes, name: `maint-${id.slice(0, 6)}` });
  const { connections } = await client.assignIscsi(id, { initiators: [HOST] });
  const [connection] = connections;
  if (connection === undefined) throw new Error("no connection info");
  return connection;
}

/** Every block starts with a marker naming its index, so its copies can be found in an image file. */
function markedData(): Buffer {
  const data = randomBytes(MARKED_BLOCKS * BLOCK);
  for (let i = 0; i < MARKED_BLOCKS; i++) data.write(`${MARKER}${String(i).padStart(8, "0")}`, i * BLOCK, "latin1");
  return data;
}

/** Byte offsets, in one image file, of the copies of the marked blocks. */
async function markerOffsets(imagePath: string): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  const file = await open(imagePath, "r");
  try {
    const chunk = Buffer.alloc(64 * MiB);
    for (let position = 0; ; position += chunk.length) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      for (let at = chunk.indexOf(MARKER, 0, "latin1"); at >= 0 && at < bytesRead; at = chunk.indexOf(MARKER, at + 1, "latin1")) {
        if ((position + at) % BLOCK !== 0) continue;
        found.set(Number(chunk.toString("latin1", at + MARKER.length, at + MARKER.length + 8)), position + at);
      }
    }
  } finally {
    await file.close();
  }
  return found;
}

async function corruptBlocks(imagePath: string, offsets: Map<number, number>, region: { first: number; count: number }): Promise<void> {
  const file = await open(imagePath, "r+");
  try {
    for (let i = region.first; i < region.first + region.count; i++) {
      const offset = offsets.get(i);
      if (offset === undefined) throw new Error(`block ${i} has no copy in ${imagePath}`);
      await file.write(randomBytes(BLOCK), 0, BLOCK, offset);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  // btrfs must read the blocks from the device again, not from its page cache.
  await writeFile("/proc/sys/vm/drop_caches", "3");
}

describe("scrub on a raid1 pool", () => {
  it("reads correct data past corruption of one mirror and repairs it, reporting progress and counts", async () => {
    const testStart = Date.now();
    const poolId = newId();
    const pool = await client.createPool(poolId, {
      name: "mirror", raidLevel: "raid1", compression: "none",
      devices: [{ type: "image_file", size: 1.25 * GiB }, { type: "image_file", size: 1.25 * GiB }],
    });
    const imagePath = pool.metadata.devices[0]?.path ?? "";

    const data = markedData();
    const dataFile = join(scratch, "marked.raw");
    writeFileSync(dataFile, data);
    const readRegionFile = join(scratch, "read-region.raw");
    writeFileSync(readRegionFile, data.subarray(0, READ_REGION.count * BLOCK));
    const marked = await exportedVolume(poolId, 64 * MiB);
    await writeFileToLun(dataFile, marked);
    // Enough data that the scrub takes long enough for its progress to be seen moving.
    const fillerFile = join(scratch, "filler.raw");
    writeFileSync(fillerFile, randomBytes(FILLER_BYTES));
    await writeFileToLun(fillerFile, await exportedVolume(poolId, FILLER_BYTES));
    rmSync(fillerFile);

    console.log(`data written after ${Date.now() - testStart} ms`);
    // Read the image as it is on disk: what btrfs wrote, not a stale cached page of the image file.
    await execFileAsync("sync", [], { timeout: 60_000 });
    await writeFile("/proc/sys/vm/drop_caches", "3");
    const offsets = await markerOffsets(imagePath);
    expect(offsets.size).toBe(MARKED_BLOCKS);
    await corruptBlocks(imagePath, offsets, READ_REGION);
    await corruptBlocks(imagePath, offsets, SCRUB_REGION);

    expect(await lunMatchesFile(readRegionFile, marked, READ_REGION.count * BLOCK)).toBe(true);

    console.log(`corrupted and read back after ${Date.now() - testStart} ms`);
    const eventId = await client.startPoolOperation(poolId, "scrub");
    const percents: number[] = [];
    for (;;) {
      const event = await client.poolEvent(poolId, eventId);
      percents.push(event.percentComplete);
      if (event.completionStatus !== "Processing") {
        expect(event.completionStatus).toBe("Complete");
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`scrub progress seen: ${[...new Set(percents)].join(", ")}`);
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    expect(percents.at(-1)).toBe(100);

    const scrubbed = await client.getPool(poolId);
    const result = scrubbed?.metadata.last_scrub;
    console.log(`scrub result: ${JSON.stringify(result)}`);
    expect(result?.uncorrectable_errors).toBe(0);
    expect(result?.corrected_errors).toBeGreaterThanOrEqual(SCRUB_REGION.count);
    expect(result?.errors_found).toBeGreaterThanOrEqual(SCRUB_REGION.count);
    expect(result?.bytes_scrubbed).toBeGreaterThan(2 * FILLER_BYTES);

    expect(await lunMatchesFile(dataFile, marked, data.length)).toBe(true);
    const again = await client.runPoolOperation(poolId, "scrub");
    expect(again.metadata.last_scrub?.errors_found).toBe(0);
  });

  it("refuses an unknown pool operation naming the field", async () => {
    const reply = await dplRequest(server, "PUT", `/v1/dpl_pool/${server.poolId}/`, { body: { metadata: { pool_operation: "defrag" } } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "metadata.pool_operation" } });
  });
});

describe("compression ratio", () => {
  it("reports a ratio above 2 for compressible data written through iSCSI to a zstd pool", async () => {
    const poolId = newId();
    await client.createPool(poolId, { name: "zstd", compression: "zstd", devices: [{ type: "image_file", size: GiB }] });
    const volumeId = newId();
    await client.createVolume(volumeId, { poolId, sizeBytes: 128 * MiB, name: "logs" });
    const { connections } = await client.assignIscsi(volumeId, { initiators: [HOST] });
    const logs = Buffer.alloc(64 * MiB);
    for (let at = 0, i = 0; at < logs.length; i++) {
      at += logs.write(`2026-11-25T15:${String(i % 60).padStart(2, "0")}:00Z dpl-server: volume ${i % 97} wrote block ${i} of its data file\n`, at, "latin1");
    }
    const logFile = join(scratch, "logs.raw");
    writeFileSync(logFile, logs);
    const [connection] = connections;
    if (connection === undefined) throw new Error("no connection info");
    await writeFileToLun(logFile, connection);

    const pool = await client.getPool(poolId);
    const volume = await client.getVolume(volumeId);
    console.log(`compression ratio: pool ${pool?.metadata.compression_ratio ?? "?"}, volume ${volume?.metadata.compression_ratio ?? "?"}`);
    expect(pool?.metadata.compression_ratio).toBeGreaterThan(2);
    expect(volume?.metadata.compression_ratio).toBeGreaterThan(2);
    const plain = await client.getPool(server.poolId);
    expect(plain?.metadata.compression_ratio).toBe(1);
  });
});

describe("GET /metrics", () => {
  it("exposes pools, requests, jobs and tgtd restarts in Prometheus text, behind auth", async () => {
    expect((await dplRequest(server, "GET", "/metrics", { auth: null })).status).toBe(401);
    const reply = await dplRequest(server, "GET", "/metrics");
    expect(reply.status).toBe(200);
    expect(String(reply.headers["content-type"])).toMatch(/^text\/plain/);
    const text = reply.text;
    expect(text).toContain(`dpl_pool_capacity_bytes{pool="${server.poolId}",name="default",kind="total"}`);
    expect(text).toMatch(new RegExp(`dpl_pool_state\\{pool="${server.poolId}",name="default",state="Online"\\} 1`));
    expect(text).toMatch(/dpl_pool_volumes\{pool="[0-9a-f]{32}",name="mirror"\} 2/);
    expect(text).toMatch(/dpl_jobs_total\{object_type="pool",operation="scrub",status="Complete"\} 2/);
    expect(text).toMatch(/dpl_http_requests_total\{method="GET",route="\/v1\/dpl_pool\/:pool\/",status="200"\} \d+/);
    expect(text).toMatch(/dpl_http_request_duration_seconds_bucket\{le="0.1",method="PUT",route="\/v1\/dpl_volume\/:volume\/",status="\d+"\}/);
    expect(text).toContain("dpl_tgtd_restarts_total 0");
    // Per-volume series only with --per-volume-metrics.
    expect(text).not.toContain("dpl_volume_allocated_bytes");
  });
});
