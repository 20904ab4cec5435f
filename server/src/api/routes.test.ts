/**
 * The HTTP routes on in-memory engines, through fastify's inject() (no root, no socket): auth
 * before anything, DPL error bodies naming the field, and a volume's life (create, snapshot,
 * grow, roll back, delete) as records and engine state agree on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotPath } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0xc1);

let server: InMemoryServer;

beforeAll(async () => {
  server = await startInMemoryServer();
  const created = await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "routes", devices: [{ type: "image_file", size: 4 * GiB }] }) });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(async () => {
  await server.close();
});

describe("routes on in-memory engines", () => {
  it("answer 401 without the admin's credentials, before any job starts", async () => {
    const volume = hexId(1);
    const denied = await server.request({
      method: "PUT", url: `/v1/dpl_volume/${volume}/`, headers: { authorization: "Basic bm9ib2R5Ondyb25n", "content-type": "application/json" },
      payload: JSON.stringify({ metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) }),
    });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    expect(server.disks.files.size).toBe(0);
  });

  it("answer a DPL error body naming the field for bad input, and for unknown paths", async () => {
    const bad = await server.put(`/v1/dpl_volume/${hexId(2)}/`, { metadata: { ...volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }), total_capacity: -1 } });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.statusCode).toBeLessThan(500);
    expect(bad.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "metadata.total_capacity" } });
    const missing = await server.request({ method: "GET", url: "/v1/no_such_area/" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("take a volume through create, snapshot, grow, roll back and delete", async () => {
    const [volume, snapshot] = [hexId(3), hexId(4)];
    const data = `/memory/pools/${pool}/volumes/${volume}/data`;
    const created = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) });
    expect(created.statusCode, created.body).toBe(201);
    server.disks.file(data).content = "before";
    const snapped = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot });
    expect(snapped.statusCode, snapped.body).toBe(201);
    server.disks.file(data).content = "after";
    const grown = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: { total_capacity: 128 * MiB } });
    expect(grown.statusCode, grown.body).toBe(200);
    const rolledBack = await server.put(`/v1/dpl_volume/${volume}/`, { copy: snapshotPath(volume, snapshot) });
    expect(rolledBack.statusCode, rolledBack.body).toBe(200);
    // The snapshot's data, at the size the volume grew to.
    expect(server.disks.file(data)).toMatchObject({ content: "before", size: 128 * MiB });
    const shown = await server.request({ method: "GET", url: `/v1/dpl_volume/${volume}/` });
    expect(shown.json()).toMatchObject({ metadata: { total_capacity: 128 * MiB } });
    const deleted = await server.request({ method: "DELETE", url: `/v1/dpl_volume/${volume}/`, headers: { prefer: "wait=30" } });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect((await server.request({ method: "GET", url: `/v1/dpl_volume/${volume}/` })).statusCode).toBe(404);
    expect(server.disks.files.has(data)).toBe(false);
  });
});
