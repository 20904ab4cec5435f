/**
 * Pools through the HTTP routes on in-memory engines (no root): a pool that still holds volumes
 * is deleted only with force, and then its exports, volumes and snapshots go with it, records
 * and engines alike; a pool being deleted takes no new export.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0xe1);
const volume = hexId(0xe2);

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer();
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "doomed", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot: hexId(0xe3) })).statusCode).toBe(201);
  const assigned = await server.put(`/v1/dpl_volume/${volume}/`, {
    metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: ["iqn.2025-01.org.opendpl.test:host"] } },
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
});
afterEach(async () => {
  await server.close();
});

function deletePool(force: boolean): ReturnType<InMemoryServer["request"]> {
  return server.request({
    method: "DELETE", url: `/v1/dpl_pool/${pool}/`, payload: JSON.stringify({ metadata: { force } }),
    headers: { "content-type": "application/json", prefer: "wait=30" },
  });
}

describe("deleting a pool", () => {
  it("is refused while it holds volumes and snapshots, naming them, and changes nothing", async () => {
    const refused = await deletePool(false);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: "BUSY", message: expect.stringMatching(/still holds 1 volumes, 1 snapshots/) as unknown } });
    expect(server.targets.targets.size).toBe(1);
    expect(server.disks.pools.has(pool)).toBe(true);
  });

  it("with force removes its exports, volumes and snapshots, from the records and the engines", async () => {
    const deleted = await deletePool(true);
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect(server.targets.targets.size).toBe(0);
    expect(server.disks.pools.has(pool)).toBe(false);
    expect(server.disks.files.size).toBe(0);
    for (const url of [`/v1/dpl_pool/${pool}/`, `/v1/dpl_volume/${volume}/`]) {
      expect((await server.request({ method: "GET", url })).statusCode).toBe(404);
    }
  });
});
