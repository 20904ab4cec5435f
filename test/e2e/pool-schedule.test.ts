/**
 * A Pool's scrub / dedupe schedule changed in a Pulumi program is an in-place update through the
 * real pulumi engine: preview shows an update of the Pool alone (never a replace), up sets the
 * server's schedule, a change made outside the program shows after a refresh and is put back, and
 * removing the intervals turns the schedule off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpType } from "@pulumi/pulumi/automation";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;

interface Schedule {
  scrubIntervalHours?: number;
  dedupeIntervalHours?: number;
}

function program(schedule: Schedule): string {
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = new dpl.Pool("scheduled", { name: "e2e-scheduled", devices: [{ sizeGib: 0.5 }], forceDestroy: true, ...${JSON.stringify(schedule)} });`,
    `const data = new dpl.Volume("data", { pool, sizeBytes: ${64 * MIB}, name: "e2e-on-scheduled" });`,
    `export const poolId = pool.poolId;`,
    `export const volumeId = data.volumeId;`,
    `export const nextScrubAt = pool.nextScrubAt;`,
    `export const nextDedupeAt = pool.nextDedupeAt;`,
  ].join("\n") + "\n";
}

describe("a Pool's maintenance schedule through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  let outputs: Record<string, unknown> = {};

  const preview = (schedule: Schedule): Promise<Record<string, OpType>> => stack.previewProgram(program(schedule));
  async function up(schedule: Schedule): Promise<void> {
    outputs = await stack.upProgram(program(schedule));
  }

  async function serverSchedule(): Promise<unknown> {
    return (await client.getPool(String(outputs.poolId)))?.metadata.maintenance_schedule;
  }

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "512MiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("pool-schedule", program({ scrubIntervalHours: 168, dedupeIntervalHours: 24 }), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("sets, changes and clears the schedule in place", async () => {
    const createdAt = Date.now();
    await up({ scrubIntervalHours: 168, dedupeIntervalHours: 24 });
    const poolId = String(outputs.poolId);
    const volumeId = String(outputs.volumeId);
    expect(await serverSchedule()).toEqual({ scrub_every_seconds: 604_800, dedupe_every_seconds: 86_400 });
    const nextScrub = Date.parse(String(outputs.nextScrubAt));
    expect(nextScrub).toBeGreaterThanOrEqual(createdAt + 604_800_000);
    expect(nextScrub).toBeLessThan(Date.now() + 604_800_000);

    // A shorter scrub interval (fractional hours: 18 s): an update of the Pool alone.
    expect(await preview({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 })).toEqual({ "Pool:scheduled": "update" });
    const changedAt = Date.now();
    await up({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 });
    expect(outputs.poolId).toBe(poolId);
    expect(outputs.volumeId).toBe(volumeId);
    expect(await serverSchedule()).toEqual({ scrub_every_seconds: 18, dedupe_every_seconds: 86_400 });
    expect(Date.parse(String(outputs.nextScrubAt))).toBeGreaterThanOrEqual(changedAt + 18_000);

    // The server runs it on its own; its runs change nothing the program declares.
    const deadline = Date.now() + 60_000;
    while ((await client.getPool(poolId))?.metadata.last_scrub == null) {
      if (Date.now() > deadline) throw new Error("no scheduled scrub within 60 s");
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await preview({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 })).toEqual({});

    // Changed outside the program (e.g. `dpl pool schedule`): a refresh shows the drift, up puts it back.
    await client.setPoolSchedule(poolId, { dedupe_every_seconds: 3600 });
    await stack.stack.refresh({ onOutput: () => undefined });
    expect(await preview({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 })).toEqual({ "Pool:scheduled": "update" });
    await up({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 });
    expect(await serverSchedule()).toEqual({ scrub_every_seconds: 18, dedupe_every_seconds: 86_400 });
    expect(await preview({ scrubIntervalHours: 0.005, dedupeIntervalHours: 24 })).toEqual({});

    // No intervals: the schedule is off, still in place.
    expect(await preview({})).toEqual({ "Pool:scheduled": "update" });
    await up({});
    expect(outputs.poolId).toBe(poolId);
    expect(await serverSchedule()).toEqual({ scrub_every_seconds: null, dedupe_every_seconds: null });
    expect(outputs.nextScrubAt).toBeUndefined();
    expect(outputs.nextDedupeAt).toBeUndefined();
    expect(await preview({})).toEqual({});

    await stack.stack.destroy({ onOutput: () => undefined });
    expect(await client.getPool(poolId)).toBeUndefined();
  });
});
