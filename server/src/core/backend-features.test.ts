/**
 * rbd pools through the routes on in-memory engines: a pool's Ceph files must be on the server's
 * allow-list, a body that mixes the backends is refused naming the field, and every btrfs-only
 * feature is refused with 422 UNSUPPORTED, naming the field and what Ceph offers instead, before
 * any job starts (no event, no engine call).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata, type PoolSpec } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const CONF = "/etc/ceph-test/ceph.conf";
const KEYRING = "/etc/ceph-test/client.dpl.keyring";
const ceph = { config_path: CONF, keyring_path: KEYRING, client_id: "dpl", rbd_pool: "dpl" };
const rbdPool = hexId(0xa1);
const btrfsPool = hexId(0xa2);
const volume = hexId(0xa3);

let server: InMemoryServer;

beforeAll(async () => {
  server = await startInMemoryServer({ allowedCephFiles: [CONF, KEYRING] });
  const rbd = await server.put(`/v1/dpl_pool/${rbdPool}/`, { metadata: poolCreateMetadata({ name: "ceph", devices: [], backend: "rbd", ceph }) });
  expect(rbd.statusCode, rbd.body).toBe(201);
  expect(rbd.json()).toMatchObject({ metadata: { backend: "rbd", ceph, devices: [] } });
  const btrfs = await server.put(`/v1/dpl_pool/${btrfsPool}/`, { metadata: poolCreateMetadata({ name: "local", devices: [{ type: "image_file", size: 4 * GiB }] }) });
  expect(btrfs.statusCode, btrfs.body).toBe(201);
  expect(btrfs.json()).toMatchObject({ metadata: { backend: "btrfs", ceph: null } });
  const created = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: rbdPool, sizeBytes: 64 * MiB }) });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(async () => {
  await server.close();
});

describe("creating an rbd pool", () => {
  it.each([
    ["a config file off the allow-list", { ...ceph, config_path: "/etc/passwd" }, "metadata.ceph.config_path", "allow-list"],
    ["a keyring off the allow-list", { ...ceph, keyring_path: "/root/.ssh/id_rsa" }, "metadata.ceph.keyring_path", "allow-list"],
    ["a relative path", { ...ceph, config_path: "ceph.conf" }, "metadata.ceph.config_path", "absolute"],
    ["an RBD pool name rbd cannot carry", { ...ceph, rbd_pool: "a/b" }, "metadata.ceph.rbd_pool", "letters"],
  ])("refuses %s, naming the field", async (_what, connection, field, words) => {
    const reply = await server.put(`/v1/dpl_pool/${hexId(0xb1)}/`, { metadata: poolCreateMetadata({ name: "bad", devices: [], backend: "rbd", ceph: connection }) });
    expect(reply.statusCode, reply.body).toBe(400);
    expect(reply.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", field } });
    expect(reply.body).toContain(words);
    expect(server.core.pools.find(hexId(0xb1))).toBeUndefined();
  });

  it.each<[string, Omit<PoolSpec, "name">, string]>([
    ["devices", { backend: "rbd", ceph, devices: [{ type: "image_file", size: 4 * GiB }] }, "metadata.devices"],
    ["no Ceph connection", { backend: "rbd", devices: [] }, "metadata.ceph"],
    ["a RAID level", { backend: "rbd", ceph, devices: [], raidLevel: "raid1" }, "metadata.properties.raid_level"],
    ["compression", { backend: "rbd", ceph, devices: [], compression: "zstd" }, "metadata.properties.compression"],
    ["a Ceph connection on a btrfs pool", { ceph, devices: [{ type: "image_file", size: 4 * GiB }] }, "metadata.ceph"],
  ])("refuses a body with %s, naming the field", async (_what, spec, field) => {
    const reply = await server.put(`/v1/dpl_pool/${hexId(0xb2)}/`, { metadata: poolCreateMetadata({ name: "bad", ...spec }) });
    expect(reply.statusCode, reply.body).toBe(400);
    expect(reply.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", field } });
    expect(server.core.pools.find(hexId(0xb2))).toBeUndefined();
  });
});

describe("btrfs-only features on an rbd pool", () => {
  it.each([
    ["scrub", `/v1/dpl_pool/${rbdPool}/`, { metadata: { pool_operation: "scrub" } }, "metadata.pool_operation", "ceph pg deep-scrub"],
    ["dedupe", `/v1/dpl_pool/${rbdPool}/`, { metadata: { pool_operation: "dedupe" } }, "metadata.pool_operation", "dedupe is refused"],
    ["a scrub schedule", `/v1/dpl_pool/${rbdPool}/`, { metadata: { maintenance_schedule: { scrub_every_seconds: 3600 } } }, "metadata.maintenance_schedule.scrub_every_seconds", "Ceph scrubs"],
    ["compression", `/v1/dpl_pool/${rbdPool}/`, { metadata: { pool_settings: { compression: "zstd" } } }, "metadata.pool_settings.compression", "compression_mode"],
    ["a RAID conversion", `/v1/dpl_pool/${rbdPool}/`, { metadata: { pool_settings: { raid_level: "raid1" } } }, "metadata.pool_settings.raid_level", "size 3"],
    ["adding devices", `/v1/dpl_pool/${rbdPool}/`, { metadata: { device_operation: "add", devices: [{ type: "image_file", size: GiB }] } }, "metadata.device_operation", "OSDs"],
    ["a compressed volume", `/v1/dpl_volume/${hexId(0xc1)}/`, { metadata: { ...volumeCreateMetadata({ poolId: rbdPool, sizeBytes: 64 * MiB }), properties: { compression: "zstd" } } }, undefined, "compression_mode"],
    ["a thin volume turned thick", `/v1/dpl_volume/${volume}/`, { metadata: { properties: { thin_provision: false } } }, undefined, "--thick-provision"],
    ["a move to a btrfs pool", `/v1/dpl_volume/${volume}/`, { metadata: { move_to_pool: btrfsPool } }, "metadata.move_to_pool", "not offered"],
    ["an image export", `/v1/dpl_image/${hexId(0xc2)}/`, { metadata: { source_volume: volume, format: "raw" } }, "metadata.source_volume", "rbd export"],
  ] as const)("refuses %s with 422 naming what to do instead", async (_what, path, body, field, words) => {
    const reply = await server.put(path, body);
    expect(reply.statusCode, reply.body).toBe(422);
    expect(reply.json()).toMatchObject({ error: { code: "UNSUPPORTED", ...(field === undefined ? {} : { field }) } });
    expect(reply.body).toContain("rbd pool");
    expect(reply.body).toContain(words);
    expect(reply.json()).not.toHaveProperty("event_uuid");
  });

  it("refuses deleting a volume whose snapshots live in its image, and deletes it once they are gone", async () => {
    const snapshot = hexId(0xd1);
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot })).statusCode).toBe(201);
    const refused = await server.request({ method: "DELETE", url: `/v1/dpl_volume/${volume}/` });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.body).toContain(snapshot);
    expect(server.core.volumes.find(volume)?.state).toBe("available");
    expect((await server.request({ method: "DELETE", url: `/v1/dpl_volume/${volume}/cdmi_snapshots/${snapshot}/`, headers: { prefer: "wait=30" } })).statusCode).toBe(200);
    const deleted = await server.request({ method: "DELETE", url: `/v1/dpl_volume/${volume}/`, headers: { prefer: "wait=30" } });
    expect(deleted.statusCode, deleted.body).toBe(200);
  });
});
