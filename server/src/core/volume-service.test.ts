/**
 * Volumes through the HTTP routes on in-memory engines (no root): create, extend (a shrink is
 * refused naming the size), snapshot, copy of a snapshot and clone of the volume holding the data
 * of their moment, rollback to a snapshot, settings changed in place, and a delete that leaves
 * the volume's snapshots usable until they are deleted too, records and engine alike.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VolumeReply, snapshotPath } from "@prophetstor/dpl-provider/wire";
import { copyMetadata, poolCreateMetadata, volumeCreateMetadata, volumeModifyMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0x20);
const volume = hexId(0x21);
const snapshot = hexId(0x22);

let server: InMemoryServer;

const dataPath = (id: string): string => `/memory/pools/${pool}/volumes/${id}/data`;
const write = (id: string, content: string): void => { server.disks.file(dataPath(id)).content = content; };
const dataOf = (id: string): string => server.disks.file(dataPath(id)).content;

async function volumeNow(id: string): Promise<VolumeReply["metadata"] | undefined> {
  const reply = await server.request({ method: "GET", url: `/v1/dpl_volume/${id}/` });
  return reply.statusCode === 404 ? undefined : VolumeReply.parse(reply.json()).metadata;
}

beforeEach(async () => {
  server = await startInMemoryServer();
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "vols", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB, name: "data" }) })).statusCode).toBe(201);
  write(volume, "before");
});
afterEach(async () => {
  await server.close();
});

describe("volumes", () => {
  it("extend in place and refuse a shrink naming the size, keeping the volume", async () => {
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeModifyMetadata({ sizeBytes: 128 * MiB }) })).statusCode).toBe(200);
    expect((await volumeNow(volume))?.total_capacity).toBe(128 * MiB);
    expect(server.disks.file(dataPath(volume)).size).toBe(128 * MiB);
    const shrink = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeModifyMetadata({ sizeBytes: 32 * MiB }) });
    expect(shrink.statusCode).toBe(400);
    expect(shrink.body).toMatch(/total_capacity/);
    expect(dataOf(volume)).toBe("before");
  });

  it("copy a snapshot and clone the volume, each holding the data of its moment", async () => {
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot })).statusCode).toBe(201);
    write(volume, "after");
    const copied = hexId(0x23);
    const cloned = hexId(0x24);
    const copy = await server.put(`/v1/dpl_volume/${copied}/`, { metadata: { snapshot_operation: "copy", ...copyMetadata({}) }, copy: snapshotPath(volume, snapshot) });
    expect(copy.statusCode, copy.body).toBe(201);
    const clone = await server.put(`/v1/dpl_volume/${cloned}/`, { metadata: { snapshot_operation: "clone", ...copyMetadata({}) }, copy: volume });
    expect(clone.statusCode, clone.body).toBe(201);
    expect(dataOf(copied)).toBe("before");
    expect(dataOf(cloned)).toBe("after");
    expect((await volumeNow(copied))?.origin_uuid).toBe(snapshot);
    expect((await volumeNow(cloned))?.origin_uuid).toBe(volume);
  });

  it("roll back to a snapshot", async () => {
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot })).statusCode).toBe(201);
    write(volume, "after");
    const rolled = await server.put(`/v1/dpl_volume/${volume}/`, { copy: snapshotPath(volume, snapshot) });
    expect(rolled.statusCode, rolled.body).toBeLessThan(300);
    expect(dataOf(volume)).toBe("before");
  });

  it("change name, compression, cache mode and thin/thick in place", async () => {
    const changed = await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeModifyMetadata({ name: "renamed", compression: "zstd", cacheMode: "direct", thin: false }) });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(await volumeNow(volume)).toMatchObject({ display_name: "renamed", properties: { compression: "zstd", cache_mode: "direct", thin_provision: false } });
    expect(server.disks.file(dataPath(volume)).allocated).toBe(64 * MiB);
  });

  it("delete without their snapshots, which can still be copied from and then deleted, leaving nothing", async () => {
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: {}, snapshot })).statusCode).toBe(201);
    const remove = (url: string): ReturnType<InMemoryServer["request"]> => server.request({
      method: "DELETE", url, payload: JSON.stringify({ metadata: { force: true } }), headers: { "content-type": "application/json", prefer: "wait=30" },
    });
    expect((await remove(`/v1/dpl_volume/${volume}/`)).statusCode).toBeLessThan(300);
    expect(await volumeNow(volume)).toBeUndefined();
    const copied = hexId(0x25);
    expect((await server.put(`/v1/dpl_volume/${copied}/`, { metadata: { snapshot_operation: "copy", ...copyMetadata({}) }, copy: snapshotPath(volume, snapshot) })).statusCode).toBe(201);
    expect(dataOf(copied)).toBe("before");
    expect((await remove(`/v1/dpl_volume/${volume}/cdmi_snapshots/${snapshot}/`)).statusCode).toBeLessThan(300);
    expect((await remove(`/v1/dpl_volume/${copied}/`)).statusCode).toBeLessThan(300);
    expect([...server.disks.files.keys()].filter((p) => p.startsWith(`/memory/pools/${pool}/`))).toEqual([]);
  });
});
