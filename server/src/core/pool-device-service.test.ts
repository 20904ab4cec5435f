/**
 * A pool's settings and devices changed in place, through the HTTP routes on in-memory engines
 * (no root): settings are set and cleared, a RAID conversion needs the devices of its profile,
 * devices are added, replaced and removed with the records and the engine following, and each
 * refusal names the field and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const pool = "f".repeat(31) + "1";
const DEVICE = { type: "image_file", size: 1 * GiB } as const;

let server: InMemoryServer;

interface PoolMetadata {
  display_name: string;
  display_description: string | null;
  max_oversubscription: number | null;
  properties: { raid_level: string; compression: string };
  devices: { device_uuid: string; size: number }[];
}

async function poolNow(): Promise<PoolMetadata> {
  const reply = await server.request({ method: "GET", url: `/v1/dpl_pool/${pool}/` });
  expect(reply.statusCode, reply.body).toBe(200);
  return reply.json<{ metadata: PoolMetadata }>().metadata;
}

const changeSettings = (settings: Record<string, unknown>): ReturnType<InMemoryServer["put"]> =>
  server.put(`/v1/dpl_pool/${pool}/`, { metadata: { pool_settings: settings } });
const changeDevices = (change: Record<string, unknown>): ReturnType<InMemoryServer["put"]> =>
  server.put(`/v1/dpl_pool/${pool}/`, { metadata: change });

beforeEach(async () => {
  server = await startInMemoryServer();
  const created = await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "tank", devices: [DEVICE] }) });
  expect(created.statusCode, created.body).toBe(201);
});
afterEach(async () => {
  await server.close();
});

describe("pool settings", () => {
  it("sets the name, compression and cap, and clears the description and the cap with null", async () => {
    expect((await changeSettings({ display_name: "fast", display_description: "ssd", compression: "zstd", max_oversubscription: 2 })).statusCode).toBe(200);
    expect(await poolNow()).toMatchObject({ display_name: "fast", display_description: "ssd", max_oversubscription: 2, properties: { compression: "zstd" } });
    expect(server.disks.pool(pool).compression).toBe("zstd");
    expect((await changeSettings({ display_description: null, max_oversubscription: null })).statusCode).toBe(200);
    expect(await poolNow()).toMatchObject({ display_name: "fast", display_description: null, max_oversubscription: null });
  });

  it("refuses an empty change or an unknown compression, naming it, and keeps the pool", async () => {
    const empty = await changeSettings({});
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toMatch(/must name at least one setting/);
    const unknown = await changeSettings({ compression: "gzip" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toMatch(/compression/);
    expect((await poolNow()).properties.compression).toBe("none");
  });

  it("converts the RAID level only when the devices hold the profile", async () => {
    const tooFew = await changeSettings({ raid_level: "raid1" });
    expect(tooFew.statusCode).toBeGreaterThanOrEqual(400);
    expect(tooFew.body).toMatch(/raid1/);
    expect((await poolNow()).properties.raid_level).toBe("single");
    expect((await changeDevices({ device_operation: "add", devices: [DEVICE] })).statusCode).toBe(200);
    expect((await changeSettings({ raid_level: "raid1" })).statusCode).toBe(200);
    expect((await poolNow()).properties.raid_level).toBe("raid1");
  });
});

describe("pool devices", () => {
  it("adds, replaces and removes devices, the engine following the records", async () => {
    expect((await changeDevices({ device_operation: "add", devices: [DEVICE, DEVICE] })).statusCode).toBe(200);
    const [first, second, third] = (await poolNow()).devices;
    expect(third).toBeDefined();
    expect(server.disks.pool(pool).devices).toHaveLength(3);

    const replaced = await changeDevices({ device_operation: "replace", device_uuid: second?.device_uuid, device: { type: "image_file", size: 2 * GiB } });
    expect(replaced.statusCode, replaced.body).toBe(200);
    const afterReplace = (await poolNow()).devices;
    expect(afterReplace.map((d) => d.device_uuid)).not.toContain(second?.device_uuid);
    expect(afterReplace.map((d) => d.size).sort()).toEqual([GiB, GiB, 2 * GiB]);

    expect((await changeDevices({ device_operation: "remove", device_uuids: [first?.device_uuid] })).statusCode).toBe(200);
    expect((await poolNow()).devices.map((d) => d.device_uuid)).not.toContain(first?.device_uuid);
    expect(server.disks.pool(pool).devices.map((d) => d.deviceId).sort()).toEqual((await poolNow()).devices.map((d) => d.device_uuid).sort());
  });

  it("refuses to remove every device or one the pool does not have, and keeps them", async () => {
    const [only] = (await poolNow()).devices;
    const all = await changeDevices({ device_operation: "remove", device_uuids: [only?.device_uuid] });
    expect(all.statusCode).toBeGreaterThanOrEqual(400);
    const unknown = await changeDevices({ device_operation: "remove", device_uuids: ["no-such-device"] });
    expect(unknown.statusCode).toBeGreaterThanOrEqual(400);
    expect(unknown.body).toMatch(/no-such-device/);
    expect((await poolNow()).devices).toHaveLength(1);
    expect(server.disks.pool(pool).devices).toHaveLength(1);
  });
});
