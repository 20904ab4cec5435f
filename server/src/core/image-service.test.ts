/**
 * Images through the HTTP routes on in-memory engines (no root): a volume written out as an image
 * in its pool's directory, listed, read and made into a new volume that holds the same data; a
 * URL image fetched into a volume; refusals that name the field (a path outside the image
 * directories, a directory the server does not have, a format that is not the file's) and leave
 * nothing behind; an image deleted.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ImageReply, VolumeReply } from "@prophetstor/dpl-provider/wire";
import { imageCreateBody, poolCreateMetadata, volumeCreateMetadata, volumeFromImageBody } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const pool = hexId(0x10);
const volume = hexId(0x11);
const image = hexId(0x12);
const copy = hexId(0x13);

let server: InMemoryServer;

const dataOf = (poolId: string, volumeId: string): string => server.disks.file(`/memory/pools/${poolId}/volumes/${volumeId}/data`).content;

beforeEach(async () => {
  server = await startInMemoryServer();
  expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "img", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) })).statusCode).toBe(201);
  server.disks.file(`/memory/pools/${pool}/volumes/${volume}/data`).content = "the volume's bytes";
});
afterEach(async () => {
  await server.close();
});

describe("images", () => {
  it("writes a volume as an image in its pool's directory, lists it and serves its bytes", async () => {
    const exported = await server.put(`/v1/dpl_image/${image}/`, imageCreateBody({ sourceVolume: volume, format: "qcow2" }));
    expect(exported.statusCode, exported.body).toBeLessThan(300);
    const detail = await server.request({ method: "GET", url: `/v1/dpl_image/${image}/` });
    expect(ImageReply.parse(detail.json()).metadata).toMatchObject({ format: "qcow2", path: `/memory/pools/${pool}/images/${image}.qcow2`, virtual_size: 64 * MiB });
    const listed = await server.request({ method: "GET", url: "/v1/dpl_image/" });
    expect(listed.body).toContain(image);
    const content = await server.request({ method: "GET", url: `/v1/dpl_image/${image}/content` });
    expect(content.statusCode).toBe(200);
    expect(content.body).toBe("the volume's bytes");
  });

  it("makes a new volume from an image file that holds the same data", async () => {
    await server.put(`/v1/dpl_image/${image}/`, imageCreateBody({ sourceVolume: volume, format: "raw" }));
    const made = await server.put(`/v1/dpl_volume/${copy}/`, volumeFromImageBody({ poolId: pool, image: { path: `/memory/pools/${pool}/images/${image}.raw`, format: "raw" } }));
    expect(made.statusCode, made.body).toBeLessThan(300);
    expect(dataOf(pool, copy)).toBe("the volume's bytes");
  });

  it("fetches a URL image into a new volume", async () => {
    server.images.urls.set("https://images.example.org/base.raw", { content: "base image", size: 32 * MiB });
    const made = await server.put(`/v1/dpl_volume/${copy}/`, volumeFromImageBody({ poolId: pool, image: { url: "https://images.example.org/base.raw", format: "raw" } }));
    expect(made.statusCode, made.body).toBeLessThan(300);
    expect(dataOf(pool, copy)).toBe("base image");
    // Recorded as the request named it, so the volume can be imported as a VolumeFromImage.
    const recorded = await server.request({ method: "GET", url: `/v1/dpl_volume/${copy}/` });
    expect(VolumeReply.parse(recorded.json()).metadata.image_source).toEqual({ url: "https://images.example.org/base.raw", format: "raw" });
  });

  it("refuses a path outside the image directories, an unknown directory and a wrong format, naming the field", async () => {
    server.disks.files.set("/etc/shadow.raw", { size: MiB, allocated: MiB, content: "secret" });
    const outside = await server.put(`/v1/dpl_volume/${copy}/`, volumeFromImageBody({ poolId: pool, image: { path: "/etc/shadow.raw", format: "raw" } }));
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toMatchObject({ error: { field: "image.path", message: expect.stringMatching(/outside the server's image directories/) as unknown } });
    const badDirectory = await server.put(`/v1/dpl_image/${image}/`, imageCreateBody({ sourceVolume: volume, format: "raw", directory: "/tmp" }));
    expect(badDirectory.json()).toMatchObject({ error: { field: "metadata.directory" } });
    await server.put(`/v1/dpl_image/${image}/`, imageCreateBody({ sourceVolume: volume, format: "raw" }));
    const wrongFormat = await server.put(`/v1/dpl_volume/${copy}/`, volumeFromImageBody({ poolId: pool, image: { path: `/memory/pools/${pool}/images/${image}.raw`, format: "qcow2" } }));
    expect(wrongFormat.statusCode).toBe(400);
    expect(wrongFormat.body).toMatch(/image\.format/);
    expect(server.disks.files.has(`/memory/pools/${pool}/volumes/${copy}/data`)).toBe(false);
    expect((await server.request({ method: "GET", url: `/v1/dpl_volume/${copy}/` })).statusCode).toBe(404);
  });

  it("deletes an image file", async () => {
    await server.put(`/v1/dpl_image/${image}/`, imageCreateBody({ sourceVolume: volume, format: "qcow2" }));
    const deleted = await server.request({ method: "DELETE", url: `/v1/dpl_image/${image}/`, headers: { prefer: "wait=30" } });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect(server.disks.files.has(`/memory/pools/${pool}/images/${image}.qcow2`)).toBe(false);
    expect((await server.request({ method: "GET", url: `/v1/dpl_image/${image}/` })).statusCode).toBe(404);
  });
});
