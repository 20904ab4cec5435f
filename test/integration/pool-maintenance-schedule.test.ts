/**
 * Scheduled maintenance on the real server: a pool created with a 10 s scrub and 12 s dedupe
 * schedule is scrubbed and deduped by the server on its own, keeps its plan across a restart
 * (due times come from stored run times), and stops when the schedule is set to null.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "../../provider/src/client";
import { toHexId, type PoolReply } from "../../provider/src/wire";
import { runDplCli } from "../support/dpl-cli";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, "..", "..");
const GiB = 2 ** 30;
const SCRUB_EVERY = 10;
const DEDUPE_EVERY = 12;

let server: RunningServer;
let client: DplClient;
const newId = (): string => toHexId(randomUUID());

beforeAll(async () => {
  server = await startServer({ embeddedPoolSize: "1GiB" });
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  // The dpl command runs from provider/dist.
  await execFileAsync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-b", "provider"], { cwd: repoRoot, timeout: 240_000 });
});

/** `dpl --json ...` against the test server; stdout parsed. */
async function dplJson(args: string[]): Promise<Record<string, unknown>> {
  const run = await runDplCli(server, ["--json", ...args]);
  if (run.status !== 0) throw new Error(`dpl ${args.join(" ")} exited ${String(run.status)}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

afterAll(async () => {
  await client.close();
  await server.stop();
});

async function pool(id: string): Promise<PoolReply["metadata"]> {
  const reply = await client.getPool(id);
  if (reply === undefined) throw new Error(`pool ${id} is gone`);
  return reply.metadata;
}

/** Polls the pool until `done` holds (or fails after `seconds`). */
async function waitForPool(id: string, seconds: number, done: (m: PoolReply["metadata"]) => boolean): Promise<PoolReply["metadata"]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const m = await pool(id);
    if (done(m)) return m;
    if (Date.now() > deadline) throw new Error(`pool ${id} did not get there in ${seconds} s: ${JSON.stringify({ last_scrub: m.last_scrub, last_dedupe: m.last_dedupe })}\nserver log:\n${server.log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ranAfter = (since: number) => (m: PoolReply["metadata"]): boolean =>
  (m.last_scrub?.finished ?? 0) > since && (m.last_dedupe?.finished ?? 0) > since;

describe("scheduled scrub and dedupe", () => {
  it("runs on its own when due, survives a restart, and stops when set to null", async () => {
    const poolId = newId();
    const beforeCreate = Date.now();
    const created = await client.createPool(poolId, {
      name: "scheduled", devices: [{ type: "image_file", size: GiB }],
      maintenanceSchedule: { scrub_every_seconds: SCRUB_EVERY, dedupe_every_seconds: DEDUPE_EVERY },
    });
    const setAt = Date.now();
    expect(created.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: SCRUB_EVERY, dedupe_every_seconds: DEDUPE_EVERY });
    expect(created.metadata.last_scrub).toBeNull();
    const firstScrubDue = created.metadata.next_scrub_at ?? 0;
    expect(firstScrubDue).toBeGreaterThanOrEqual(beforeCreate + SCRUB_EVERY * 1000);
    expect(firstScrubDue).toBeLessThanOrEqual(setAt + SCRUB_EVERY * 1000);
    expect(created.metadata.next_dedupe_at).toBeGreaterThanOrEqual(beforeCreate + DEDUPE_EVERY * 1000);

    // Nobody asks for a run: the scheduler starts both once due.
    const ran = await waitForPool(poolId, 60, ranAfter(setAt));
    console.log(`first scheduled runs: scrub started ${(ran.last_scrub?.started ?? 0) - firstScrubDue} ms after due, ${JSON.stringify(ran.last_scrub)}, dedupe ${JSON.stringify(ran.last_dedupe)}`);
    expect(ran.last_scrub?.started).toBeGreaterThanOrEqual(firstScrubDue);
    // Started by a tick (every second) soon after it was due; a busy machine gets a few seconds more.
    // A scheduler a whole interval late, or waiting out a refused start's 60 s, fails this.
    expect(ran.last_scrub?.started).toBeLessThan(firstScrubDue + SCRUB_EVERY * 1000);
    expect(ran.last_dedupe?.started).toBeGreaterThanOrEqual(created.metadata.next_dedupe_at ?? Infinity);

    // The next run is due one interval after the last one finished.
    const settled = await waitForPool(poolId, 30, (m) => (m.next_scrub_at ?? 0) > (m.last_scrub?.finished ?? Infinity));
    const nextScrubAt = settled.next_scrub_at ?? 0;
    expect(nextScrubAt - (settled.last_scrub?.finished ?? 0)).toBeGreaterThanOrEqual(SCRUB_EVERY * 1000);
    expect(nextScrubAt - (settled.last_scrub?.finished ?? 0)).toBeLessThan(SCRUB_EVERY * 1000 + 2000);

    // A restart keeps the schedule and computes the same due time from the stored run times.
    await server.restart();
    const restartedAt = Date.now();
    const afterRestart = await pool(poolId);
    expect(afterRestart.maintenance_schedule).toEqual({ scrub_every_seconds: SCRUB_EVERY, dedupe_every_seconds: DEDUPE_EVERY });
    if (afterRestart.last_scrub?.finished === settled.last_scrub?.finished) expect(afterRestart.next_scrub_at).toBe(nextScrubAt);
    const ranAgain = await waitForPool(poolId, 60, ranAfter(restartedAt));
    console.log(`runs after the restart: scrub finished ${ranAgain.last_scrub?.finished}, dedupe finished ${ranAgain.last_dedupe?.finished}`);

    // null turns both off: the reply says so, and no further run starts.
    const off = await client.setPoolSchedule(poolId, { scrub_every_seconds: null, dedupe_every_seconds: null });
    const clearedBy = Date.now();
    expect(off.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: null, dedupe_every_seconds: null });
    expect(off.metadata.next_scrub_at).toBeNull();
    expect(off.metadata.next_dedupe_at).toBeNull();
    // Longer than two intervals of either: a schedule still in force would have started and finished a run.
    await new Promise((r) => setTimeout(r, (DEDUPE_EVERY * 2 + 5) * 1000));
    const later = await pool(poolId);
    // A run that had already started when the schedule was cleared may still finish (on a busy
    // machine, well after the clear); none may start after it.
    expect(later.last_scrub?.started ?? 0).toBeLessThanOrEqual(clearedBy);
    expect(later.last_dedupe?.started ?? 0).toBeLessThanOrEqual(clearedBy);
  });

  it("changes one operation's interval in place, keeping the other, and counts from the change", async () => {
    const first = await client.setPoolSchedule(server.poolId, { scrub_every_seconds: 7 * 86_400 });
    expect(first.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: 7 * 86_400, dedupe_every_seconds: null });
    const before = Date.now();
    const second = await client.setPoolSchedule(server.poolId, { dedupe_every_seconds: 86_400 });
    expect(second.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: 7 * 86_400, dedupe_every_seconds: 86_400 });
    // The unchanged scrub interval keeps its due time; the new dedupe one counts from now.
    expect(second.metadata.next_scrub_at).toBe(first.metadata.next_scrub_at);
    expect(second.metadata.next_dedupe_at).toBeGreaterThanOrEqual(before + 86_400_000);
    const cleared = await client.setPoolSchedule(server.poolId, { scrub_every_seconds: null, dedupe_every_seconds: null });
    expect(cleared.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: null, dedupe_every_seconds: null });
  });

  it("is shown and set by `dpl pool schedule`", async () => {
    const before = Date.now();
    const set = await dplJson(["pool", "schedule", server.poolId, "--scrub-every", "7d", "--dedupe-every", "1d12h"]);
    expect(set.maintenance_schedule).toEqual({ scrub_every_seconds: 604_800, dedupe_every_seconds: 129_600 });
    expect(set.next_scrub_at).toBeGreaterThanOrEqual(before + 604_800_000);
    const off = await dplJson(["pool", "schedule", server.poolId, "--dedupe-every", "off"]);
    expect(off.maintenance_schedule).toEqual({ scrub_every_seconds: 604_800, dedupe_every_seconds: null });
    expect(off.next_dedupe_at).toBeNull();
    const shown = await dplJson(["pool", "schedule", server.poolId]);
    expect(shown.maintenance_schedule).toEqual(off.maintenance_schedule);
    await expect(dplJson(["pool", "schedule", server.poolId, "--scrub-every", "5s"])).rejects.toThrow(/scrub_every_seconds: must be at least 10 seconds/);
    await expect(dplJson(["pool", "schedule", server.poolId, "--scrub-every", "weekly"])).rejects.toThrow(/--scrub-every: "weekly" is not a duration/);
    await client.setPoolSchedule(server.poolId, { scrub_every_seconds: null });
  });

  it("refuses an interval below the minimum, naming the field, and leaves nothing half-made", async () => {
    const put = await dplRequest(server, "PUT", `/v1/dpl_pool/${server.poolId}/`, {
      body: { metadata: { maintenance_schedule: { scrub_every_seconds: 5 } } },
    });
    expect(put.status).toBe(400);
    expect(put.body).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "metadata.maintenance_schedule.scrub_every_seconds" } });
    expect(JSON.stringify(put.body)).toContain("at least 10 seconds");

    const fractional = await dplRequest(server, "PUT", `/v1/dpl_pool/${server.poolId}/`, {
      body: { metadata: { maintenance_schedule: { dedupe_every_seconds: 30.5 } } },
    });
    expect(fractional.status).toBe(400);
    expect(fractional.body).toMatchObject({ error: { field: "metadata.maintenance_schedule.dedupe_every_seconds" } });

    const unknown = await dplRequest(server, "PUT", `/v1/dpl_pool/${server.poolId}/`, {
      body: { metadata: { maintenance_schedule: { defrag_every_seconds: 60 } } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { field: "metadata.maintenance_schedule.defrag_every_seconds" } });

    const poolId = newId();
    const create = await dplRequest(server, "PUT", `/v1/dpl_pool/${poolId}/`, {
      body: {
        metadata: {
          display_name: "too-often", properties: {}, devices: [{ type: "image_file", size: GiB }],
          maintenance_schedule: { dedupe_every_seconds: 9 },
        },
      },
    });
    expect(create.status).toBe(400);
    expect(create.body).toMatchObject({ error: { field: "metadata.maintenance_schedule.dedupe_every_seconds" } });
    expect(await client.getPool(poolId)).toBeUndefined();

    const missing = await dplRequest(server, "PUT", `/v1/dpl_pool/${newId()}/`, {
      body: { metadata: { maintenance_schedule: { scrub_every_seconds: 60 } } },
    });
    expect(missing.status).toBe(404);
    expect((await pool(server.poolId)).maintenance_schedule).toEqual({ scrub_every_seconds: null, dedupe_every_seconds: null });
  });
});
