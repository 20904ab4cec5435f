/**
 * I/O statistics through the HTTP routes on in-memory engines (no root), the clock faked: pool
 * rates and latency from two samples of the block counters; a volume's totals summed over its
 * iSCSI sessions, kept when a session logs out (tgtd forgets it) and when another starts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { IoStatsReply } from "@prophetstor/dpl-provider/wire";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const pool = "a".repeat(31) + "1";
const volume = "a".repeat(31) + "2";

let server: InMemoryServer;

/** The reply, checked against the wire's schema. */
async function stats(kind: "pool" | "volume", id: string): Promise<IoStatsReply["metadata"]> {
  const reply = await server.request({ method: "GET", url: `/v1/dpl_${kind}/${id}/stats/` });
  expect(reply.statusCode, reply.body).toBe(200);
  return IoStatsReply.parse(reply.json()).metadata;
}

function session(sid: number, readOps: number): { tid: number; lun: number; sid: number; readOps: number; readBytes: number; writeOps: number; writeBytes: number; errors: number } {
  const [tid] = [...server.targets.targets.keys()];
  const lun = tid === undefined ? 0 : server.targets.targets.get(tid)?.lun ?? 0;
  return { tid: tid ?? 0, lun, sid, readOps, readBytes: readOps * 4096, writeOps: 0, writeBytes: 0, errors: 0 };
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  server = await startInMemoryServer();
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "io", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
});
afterEach(async () => {
  await server.close();
  vi.useRealTimers();
});

describe("I/O statistics", () => {
  it("gives a pool's rates and latency between two samples a second or more apart", async () => {
    server.disks.blockCounters.set(pool, { readOps: 100, readBytes: 100 * 4096, readMs: 50, writeOps: 0, writeBytes: 0, writeMs: 0 });
    const first = await stats("pool", pool);
    expect(first.read.ops).toBe(100);
    expect(first.read.ops_per_second).toBeNull();
    vi.advanceTimersByTime(2_000);
    server.disks.blockCounters.set(pool, { readOps: 300, readBytes: 300 * 4096, readMs: 250, writeOps: 0, writeBytes: 0, writeMs: 0 });
    const second = await stats("pool", pool);
    expect(second.read.ops_per_second).toBe(100);
    expect(second.read.average_latency_ms).toBe(1);
  });

  it("sums a volume's sessions and keeps what a session did after it logs out", async () => {
    const assigned = await server.put(`/v1/dpl_volume/${volume}/`, {
      metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: ["iqn.2025-01.org.opendpl.test:host"] } },
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    server.targets.sessions = [session(1, 10)];
    expect((await stats("volume", volume)).read.ops).toBe(10);
    vi.advanceTimersByTime(2_000);
    server.targets.sessions = [session(1, 30)];
    const grown = await stats("volume", volume);
    expect(grown.read.ops).toBe(30);
    expect(grown.read.ops_per_second).toBe(10);
    vi.advanceTimersByTime(2_000);
    // Session 1 logged out (tgtd forgot its 30), session 2 did 5.
    server.targets.sessions = [session(2, 5)];
    expect((await stats("volume", volume)).read.ops).toBe(35);
  });

  it("answers 404 for a pool or volume that does not exist", async () => {
    const missing = await server.request({ method: "GET", url: `/v1/dpl_volume/${"b".repeat(32)}/stats/` });
    expect(missing.statusCode).toBe(404);
  });
});
