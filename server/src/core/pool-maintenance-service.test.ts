/**
 * Pool maintenance through the HTTP routes on in-memory engines (no root): a scrub and a dedupe
 * run as jobs whose results the pool reply then carries; a failed scrub ends its event as Error
 * with the engine's reason and leaves the last good result; a pool runs one maintenance job at a
 * time (the next waits); the schedule is set and turned off.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PoolReply } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const pool = "c".repeat(31) + "1";
let server: InMemoryServer;

async function poolNow(): Promise<PoolReply["metadata"]> {
  const reply = await server.request({ method: "GET", url: `/v1/dpl_pool/${pool}/` });
  expect(reply.statusCode, reply.body).toBe(200);
  return PoolReply.parse(reply.json()).metadata;
}

const operate = (operation: "scrub" | "dedupe"): ReturnType<InMemoryServer["put"]> =>
  server.put(`/v1/dpl_pool/${pool}/`, { metadata: { pool_operation: operation } });

beforeEach(async () => {
  server = await startInMemoryServer();
  const created = await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "kept", devices: [{ type: "image_file", size: 4 * GiB }] }) });
  expect(created.statusCode, created.body).toBe(201);
});
afterEach(async () => {
  await server.close();
});

describe("pool maintenance", () => {
  it("puts a scrub's and a dedupe's results into the pool reply", async () => {
    server.maintenance.scrubOutcome = { ...server.maintenance.scrubOutcome, bytesScrubbed: 4096, csumErrors: 2, correctedErrors: 2 };
    server.maintenance.dedupeOutcome = { usedBytesBefore: 10 * GiB, usedBytesAfter: 6 * GiB, filesScanned: 3 };
    expect((await operate("scrub")).statusCode).toBeLessThan(300);
    expect((await operate("dedupe")).statusCode).toBeLessThan(300);
    const metadata = await poolNow();
    expect(metadata.last_scrub).toMatchObject({ bytes_scrubbed: 4096, csum_errors: 2, corrected_errors: 2 });
    expect(metadata.last_dedupe).toMatchObject({ used_bytes_before: 10 * GiB, used_bytes_after: 6 * GiB, bytes_saved: 4 * GiB, files_scanned: 3 });
    expect(server.maintenance.runs).toEqual([`scrub ${pool}`, `dedupe ${pool}`]);
  });

  it("ends a failed scrub's event as Error with the engine's reason, keeping the last good result", async () => {
    expect((await operate("scrub")).statusCode).toBeLessThan(300);
    const good = (await poolNow()).last_scrub;
    server.maintenance.failure = new Error("btrfs scrub: device missing");
    const failed = await operate("scrub");
    expect(failed.body).toMatch(/device missing/);
    expect((await poolNow()).last_scrub).toEqual(good);
  });

  it("runs one maintenance job per pool at a time: a dedupe asked during a scrub waits for it", async () => {
    const gate = server.disks.hold("scrub");
    const first = operate("scrub");
    await gate.reached;
    const second = operate("dedupe");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.maintenance.runs).toEqual([`scrub ${pool}`]);
    gate.open();
    expect((await first).statusCode).toBeLessThan(300);
    expect((await second).statusCode).toBeLessThan(300);
    expect(server.maintenance.runs).toEqual([`scrub ${pool}`, `dedupe ${pool}`]);
  });

  it("sets the schedule and turns it off with null", async () => {
    const set = await server.put(`/v1/dpl_pool/${pool}/`, { metadata: { maintenance_schedule: { scrub_every_seconds: 86_400, dedupe_every_seconds: null } } });
    expect(set.statusCode, set.body).toBe(200);
    const scheduled = await poolNow();
    expect(scheduled.maintenance_schedule).toEqual({ scrub_every_seconds: 86_400, dedupe_every_seconds: null });
    expect(scheduled.next_scrub_at).toBeGreaterThan(Date.now());
    expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: { maintenance_schedule: { scrub_every_seconds: null } } })).statusCode).toBe(200);
    expect((await poolNow()).next_scrub_at).toBeNull();
  });
});
