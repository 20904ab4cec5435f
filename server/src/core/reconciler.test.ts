/**
 * The reconcile at server start, on in-memory engines: between two servers the records are left
 * as a crash leaves them (objects half made or half deleted, events still Processing, a record
 * lost, an extend cut short, a device gone), and the next start must bring engines and records
 * back in line without deleting any data a record does not own.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { snapshotPath } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";
import { INTERRUPTED_MESSAGE } from "./reconciler";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0x70);
const kept = hexId(0x71);
const dataPath = (poolId: string, kind: "volumes" | "snapshots", id: string): string => `/memory/pools/${poolId}/${kind}/${id}/data`;

let server: InMemoryServer;

async function createPool(id: string, name: string): Promise<void> {
  expect((await server.put(`/v1/dpl_pool/${id}/`, { metadata: poolCreateMetadata({ name, devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
}

async function createVolume(id: string, poolId = pool): Promise<void> {
  expect((await server.put(`/v1/dpl_volume/${id}/`, { metadata: volumeCreateMetadata({ poolId, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
}

async function status(path: string): Promise<number> {
  return (await server.request({ method: "GET", url: path })).statusCode;
}

beforeEach(async () => {
  server = await startInMemoryServer();
  await createPool(pool, "main");
  await createVolume(kept);
  server.disks.file(dataPath(pool, "volumes", kept)).content = "kept data";
});
afterEach(async () => {
  await server.close();
});

describe("reconcile at start", () => {
  it("re-applies every export to a tgtd that came back empty, with its IQN, tid and initiators", async () => {
    const assign = await server.put(`/v1/dpl_volume/${kept}/`, {
      metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: ["iqn.2024-01.org.example:host"] } },
    });
    expect(assign.statusCode).toBe(200);
    const before = [...server.targets.targets.values()];
    server = await server.restart();
    expect(server.reconciled).toMatchObject({ reappliedExports: 1, failedExports: [] });
    expect([...server.targets.targets.values()]).toEqual(before);
  });

  it("removes what a crash left half made or half deleted, fails its events, and keeps the rest", async () => {
    const creating = hexId(0x72);
    const deleting = hexId(0x73);
    const snapshot = hexId(0x74);
    await createVolume(creating);
    await createVolume(deleting);
    expect((await server.put(`/v1/dpl_volume/${kept}/`, { snapshot })).statusCode).toBe(201);
    const event = { id: hexId(0x75), objectType: "volume" as const, objectId: creating, operation: "create", status: "Processing" as const, percent: 40, errorCode: null, errorMessage: null, started: 1, finished: null };
    server = await server.restart((store) => {
      const volume = (id: string) => store.getVolume(id) ?? expect.fail(`volume ${id} has no record`);
      store.updateVolume({ ...volume(creating), state: "creating" });
      store.updateVolume({ ...volume(deleting), state: "deleting" });
      store.setSnapshotState(snapshot, "creating");
      store.insertEvent(event);
    });
    expect(server.reconciled.interruptedEvents).toBe(1);
    expect(server.reconciled.cleanedUp).toEqual(expect.arrayContaining([
      `volume ${creating} (creating)`, `volume ${deleting} (deleting)`, `snapshot ${snapshot} (creating)`,
    ]));
    for (const gone of [creating, deleting]) {
      expect(await status(`/v1/dpl_volume/${gone}/`)).toBe(404);
      expect(server.disks.files.has(dataPath(pool, "volumes", gone))).toBe(false);
    }
    expect(server.disks.files.has(dataPath(pool, "snapshots", snapshot))).toBe(false);
    const polled = await server.request({ method: "GET", url: `/v1/dpl_volume/${creating}/?event_uuid=${event.id}` });
    expect(polled.json()).toMatchObject({ event: { status: "Error", error_message: INTERRUPTED_MESSAGE } });
    expect(server.disks.file(dataPath(pool, "volumes", kept)).content).toBe("kept data");
    expect(await status(`/v1/dpl_volume/${kept}/`)).toBe(200);
  });

  it("reports data on disk that no record owns and keeps it", async () => {
    const orphan = hexId(0x76);
    await createVolume(orphan);
    server = await server.restart((store) => {
      store.deleteVolume(orphan);
    });
    expect(server.reconciled.unowned).toEqual([{ poolId: pool, volumes: [orphan], snapshots: [] }]);
    expect(server.disks.files.has(dataPath(pool, "volumes", orphan))).toBe(true);
    expect(server.logged.some((line) => line.includes("no record owns") && line.includes(orphan))).toBe(true);
  });

  it("finishes an extend whose file grew before its record was written", async () => {
    server.disks.file(dataPath(pool, "volumes", kept)).size = 128 * MiB;
    server = await server.restart();
    expect(server.reconciled.cleanedUp).toContain(`volume ${kept} (extend finished at ${128 * MiB} bytes)`);
    expect(server.core.volumes.require(kept).sizeBytes).toBe(128 * MiB);
  });

  it("takes down a pool whose create was cut short, with its records, and leaves other pools alone", async () => {
    const halfMade = hexId(0x77);
    await createPool(halfMade, "half");
    await createVolume(hexId(0x78), halfMade);
    server = await server.restart((store) => {
      store.setPoolState(halfMade, "creating");
    });
    expect(server.reconciled.cleanedUp).toContain(`pool ${halfMade}`);
    expect(await status(`/v1/dpl_pool/${halfMade}/`)).toBe(404);
    expect(await status(`/v1/dpl_volume/${hexId(0x78)}/`)).toBe(404);
    expect(server.disks.pools.has(halfMade)).toBe(false);
    expect(server.reconciled.pools).toEqual([{ id: pool, attached: true }]);
  });

  it("marks a pool whose device is gone as error, keeping its records and the other pools working", async () => {
    const unplugged = hexId(0x79);
    const onIt = hexId(0x7a);
    await createPool(unplugged, "unplugged");
    await createVolume(onIt, unplugged);
    for (const device of server.core.pools.require(unplugged).devices) server.disks.missingDevices.add(device.path);
    server = await server.restart();
    expect(server.reconciled.pools).toContainEqual({ id: unplugged, attached: false, error: expect.stringContaining("is missing") as unknown });
    expect(server.core.pools.require(unplugged).state).toBe("error");
    expect(server.core.volumes.find(onIt)).toBeDefined();
    // A volume can still be made in the pool that attached, and a snapshot copied.
    const snapshot = hexId(0x7b);
    expect((await server.put(`/v1/dpl_volume/${kept}/`, { snapshot })).statusCode).toBe(201);
    const copy = await server.put(`/v1/dpl_volume/${hexId(0x7c)}/`, { metadata: { snapshot_operation: "copy" }, copy: snapshotPath(kept, snapshot) });
    expect(copy.statusCode).toBe(201);
  });
});
