/**
 * What the server does on its own while it runs, on in-memory engines: the watchdog brings a
 * dead tgtd back with every export, the scheduler starts a scrub that fell due (also one that
 * fell due while no server ran), and the retention prunes finished events past their age while
 * keeping recent and running ones.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";
import type { EventRecord } from "./records";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0x80);
const volume = hexId(0x81);

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer({ eventRetentionMs: 3_600_000 });
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "bg", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
});
afterEach(async () => {
  await server.close();
});

describe("the target watchdog", () => {
  it("restarts a tgtd that died and re-applies every export to it", async () => {
    const assign = await server.put(`/v1/dpl_volume/${volume}/`, {
      metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: ["iqn.2024-01.org.example:host"] } },
    });
    expect(assign.statusCode).toBe(200);
    const applied = [...server.targets.targets.values()];
    server.targets.crash();
    expect(server.targets.targets.size).toBe(0);
    await vi.waitFor(() => { expect(server.core.watchdog.restarts).toBe(1); }, { timeout: 5_000, interval: 100 });
    expect(server.targets.alive).toBe(true);
    expect([...server.targets.targets.values()]).toEqual(applied);
  });
});

describe("the maintenance scheduler", () => {
  it("starts a scrub that fell due while no server ran, and records its result", async () => {
    server = await server.restart((store) => {
      store.putMaintenanceSchedule(pool, "scrub", { intervalSeconds: 60, setAt: Date.now() - 120_000 });
    });
    await vi.waitFor(() => { expect(server.core.maintenance?.dueTimes(pool)[0]?.dueAt).toBeGreaterThan(Date.now()); }, { timeout: 5_000, interval: 100 });
    const view = await server.core.maintenance?.view(pool);
    expect(view?.lastScrub).toMatchObject({ errorsFound: 0 });
    expect(server.logged.some((line) => line.startsWith(`scheduled scrub of pool ${pool} started`))).toBe(true);
  });

  it("leaves a pool that did not attach alone", async () => {
    for (const device of server.core.pools.require(pool).devices) server.disks.missingDevices.add(device.path);
    server = await server.restart((store) => {
      store.putMaintenanceSchedule(pool, "scrub", { intervalSeconds: 60, setAt: Date.now() - 120_000 });
    });
    expect(server.core.pools.require(pool).state).toBe("error");
    // Two ticks of the scheduler.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(server.logged.some((line) => line.includes("scheduled scrub"))).toBe(false);
    expect((await server.core.maintenance?.view(pool))?.lastScrub).toBeNull();
  });
});

describe("event retention", () => {
  it("prunes finished events older than the retention at start, keeping recent and running ones", async () => {
    const event = (n: number, finished: number | null): EventRecord => ({
      id: hexId(0x90 + n), objectType: "volume", objectId: volume, operation: "modify", status: finished === null ? "Processing" : "Complete",
      percent: finished === null ? 0 : 100, errorCode: null, errorMessage: null, started: 1, finished,
    });
    const now = Date.now();
    server = await server.restart((store) => {
      store.insertEvent(event(1, now - 2 * 3_600_000));
      store.insertEvent(event(2, now - 60_000));
      store.insertEvent(event(3, null));
    });
    // The reconcile finished the interrupted one (as failed) just now: it stays.
    expect(server.logged).toContain("pruned 1 events finished more than 3600 s ago");
    const polled = async (n: number): Promise<number> =>
      (await server.request({ method: "GET", url: `/v1/dpl_volume/${volume}/?event_uuid=${hexId(0x90 + n)}` })).statusCode;
    expect(await polled(1)).toBe(404);
    expect(await polled(2)).toBe(200);
    expect(await polled(3)).toBe(200);
  });
});
