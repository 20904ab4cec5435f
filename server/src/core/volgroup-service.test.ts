/**
 * Volume groups through the HTTP routes on in-memory engines (no root): a group snapshot takes
 * one snapshot of every member with the data it held at that moment, and deleting it removes
 * them all; deleting a group never deletes its members' data.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0xf1);
const members = [hexId(0xf2), hexId(0xf3)];
const group = hexId(0xf4);

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer();
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "groups", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  for (const volume of members) {
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
  }
  const created = await server.put(`/dpl_volgroup/${group}/`, { metadata: { volume: members } });
  expect(created.statusCode, created.body).toBeLessThan(300);
});
afterEach(async () => {
  await server.close();
});

const dataOf = (volume: string): string => `/memory/pools/${pool}/volumes/${volume}/data`;

describe("volume groups", () => {
  it("snapshot every member at once, and a group snapshot's delete takes all of them", async () => {
    for (const volume of members) server.disks.file(dataOf(volume)).content = `before:${volume}`;
    const snapshot = hexId(0xf5);
    const taken = await server.put(`/v1/dpl_volgroup/${group}/`, { snapshot });
    expect(taken.statusCode, taken.body).toBe(201);
    for (const volume of members) server.disks.file(dataOf(volume)).content = `after:${volume}`;
    const memberSnapshots = [...server.disks.files.entries()].filter(([path]) => path.includes("/snapshots/"));
    expect(memberSnapshots.map(([, file]) => file.content).sort()).toEqual(members.map((volume) => `before:${volume}`).sort());

    const deleted = await server.request({ method: "DELETE", url: `/v1/dpl_volgroup/${group}/cdmi_snapshots/${snapshot}/`, headers: { prefer: "wait=30" } });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect([...server.disks.files.keys()].filter((path) => path.includes("/snapshots/"))).toEqual([]);
  });

  it("go without their members' data: deleting a group leaves its volumes, out of any group", async () => {
    const deleted = await server.request({ method: "DELETE", url: `/dpl_volgroup/${group}/` });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect((await server.request({ method: "GET", url: `/dpl_volgroup/${group}/` })).statusCode).toBe(404);
    for (const volume of members) {
      expect(server.disks.files.has(dataOf(volume))).toBe(true);
      const shown = await server.request({ method: "GET", url: `/v1/dpl_volume/${volume}/` });
      expect(shown.json()).toMatchObject({ metadata: { volume_group_uuid: null } });
    }
  });
});
