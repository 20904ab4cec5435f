/**
 * Images against the real server on btrfs: volumes made from raw and qcow2 files and from URLs (a
 * loopback HTTP server in this file), volumes written out as image files and streamed back, and
 * the refusals. Reflinks are proved with `btrfs filesystem du` (shared extents) and the pool's
 * used bytes; sparseness with allocated bytes; data with SHA-256 over the whole disk.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, statfsSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGzip, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, DplRequestError } from "../../provider/src/client";
import { toHexId } from "../../provider/src/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const GiB = 2 ** 30;

let server: RunningServer;
let client: DplClient;
let http: Server;
let httpBase = "";
/** Bytes the loopback HTTP server sent, per path. */
const bytesServed = new Map<string, number>();
/** Files the loopback HTTP server serves: URL path → file. */
const served = new Map<string, { file: string; truncateAt?: number; gzip?: boolean }>();
const teardown: Array<() => Promise<void>> = [];

const newId = (): string => toHexId(randomUUID());
const mountPoint = (): string => join(server.stateDir, "pools", server.poolId);
const poolLibrary = (): string => join(mountPoint(), "images");
const configuredDir = (): string => join(server.stateDir, "volume-images");
const volumeData = (id: string): string => join(mountPoint(), "volumes", id, "data");

async function sha256(file: string, length?: number): Promise<string> {
  const hash = createHash("sha256");
  const stream = createReadStream(file, length === undefined ? {} : { start: 0, end: length - 1 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A sparse file of `size` bytes with random data only in the given [offset, length] extents. */
async function sparseFile(file: string, size: number, extents: Array<[number, number]>): Promise<void> {
  const handle = await open(file, "w");
  try {
    await handle.truncate(size);
    for (const [offset, length] of extents) await handle.write(randomBytes(length), 0, length, offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file full of random data, written in 16 MiB pieces. */
async function randomFile(file: string, size: number): Promise<void> {
  const handle = await open(file, "w");
  try {
    for (let offset = 0; offset < size; offset += 16 * MiB) await handle.write(randomBytes(Math.min(16 * MiB, size - offset)), 0, Math.min(16 * MiB, size - offset), offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function poolUsedBytes(): Promise<number> {
  await execFileAsync("btrfs", ["filesystem", "sync", mountPoint()]);
  const stats = statfsSync(mountPoint());
  return (stats.blocks - stats.bfree) * stats.bsize;
}

/** `btrfs filesystem du --raw`: total and shared bytes of one file. */
async function sharedBytes(file: string): Promise<{ total: number; shared: number }> {
  const { stdout } = await execFileAsync("btrfs", ["filesystem", "du", "--raw", file]);
  const line = stdout.trim().split("\n").pop() ?? "";
  const [total, exclusive] = line.trim().split(/\s+/).map(Number);
  return { total: total ?? 0, shared: (total ?? 0) - (exclusive ?? 0) };
}

function leftoversOf(id: string): string[] {
  const found: string[] = [];
  if (existsSync(join(mountPoint(), "volumes", id))) found.push(`subvolume volumes/${id}`);
  const scratch = join(mountPoint(), "scratch");
  if (existsSync(scratch)) found.push(...readdirSync(scratch).map((name) => `scratch/${name}`));
  found.push(...readdirSync(configuredDir()).filter((name) => name.endsWith(".partial")).map((name) => `volume-images/${name}`));
  return found;
}

async function expectRefused(promise: Promise<unknown>, field: string, text: RegExp): Promise<void> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DplRequestError);
  expect((error as DplRequestError).field).toBe(field);
  expect((error as Error).message).toMatch(text);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

beforeAll(async () => {
  server = await startServer({ embeddedPoolSize: "8GiB", extraArgs: ["--allow-image-url-network", "127.0.0.0/8"] }); // the image server is on loopback
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ...(server.caPem === "" ? {} : { ca: server.caPem }) });
  teardown.push(() => client.close());
  mkdirSync(poolLibrary(), { recursive: true });

  // A plain file server with Range support (qcow2 headers are read with a range request); never gzip.
  http = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0] ?? "";
    const entry = served.get(path);
    if (entry === undefined) {
      response.writeHead(404).end();
      return;
    }
    const size = statSync(entry.file).size;
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
    // Like a web server compressing on the fly: no length on HEAD, gzip on a full GET that accepts it.
    if (entry.gzip === true && range === null && /gzip/.test(request.headers["accept-encoding"] ?? "")) {
      response.writeHead(200, { "content-type": "application/octet-stream", "content-encoding": "gzip" });
      if (request.method === "HEAD") {
        response.end();
        return;
      }
      const gzip = createGzip({ level: 1 });
      gzip.on("data", (chunk: Buffer) => bytesServed.set(path, (bytesServed.get(path) ?? 0) + chunk.length));
      createReadStream(entry.file).pipe(gzip).pipe(response);
      return;
    }
    const start = range === null ? 0 : Number(range[1]);
    const end = range === null ? size - 1 : Math.min(size - 1, Number(range[2]));
    response.writeHead(range === null ? 200 : 206, {
      "content-length": String(end - start + 1),
      "content-type": "application/octet-stream",
      ...(range === null ? {} : { "content-range": `bytes ${start}-${end}/${size}` }),
    });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    const limit = entry.truncateAt === undefined ? end : Math.min(end, entry.truncateAt - 1);
    const stream = createReadStream(entry.file, { start, end: limit });
    stream.on("data", (chunk) => bytesServed.set(path, (bytesServed.get(path) ?? 0) + chunk.length));
    // A truncated entry stops early and drops the connection: the download must fail cleanly.
    stream.on("end", () => (entry.truncateAt === undefined ? response.end() : response.destroy()));
    stream.pipe(response, { end: false });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  teardown.push(() => new Promise<void>((resolve) => {
    http.close(() => { resolve(); });
  }));
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

describe("volume from a raw file", () => {
  it("is a reflink when the file is on the pool's filesystem, a full sparse copy otherwise (1 GiB, timed)", async () => {
    const onPool = join(poolLibrary(), "random-1g.raw");
    await randomFile(onPool, GiB);
    const sourceSum = await sha256(onPool);
    const usedBefore = await poolUsedBytes();

    const reflinked = newId();
    const fast = await timed(() => client.createVolumeFromImage(reflinked, { poolId: server.poolId, image: { path: onPool, format: "raw" } }));
    expect(fast.value.metadata.total_capacity).toBe(GiB);
    const usedAfter = await poolUsedBytes();
    // Shared extents: the pool hardly grows and btrfs reports the volume's data as shared.
    expect(usedAfter - usedBefore).toBeLessThan(32 * MiB);
    const du = await sharedBytes(volumeData(reflinked));
    expect(du.shared).toBe(GiB);
    expect(await sha256(volumeData(reflinked))).toBe(sourceSum);

    // The same bytes from the configured image directory (the host's filesystem): copied.
    const offPool = join(configuredDir(), "random-1g.raw");
    await execFileAsync("cp", [onPool, offPool]);
    const copied = newId();
    const slow = await timed(() => client.createVolumeFromImage(copied, { poolId: server.poolId, image: { path: offPool, format: "raw" } }));
    expect((await sharedBytes(volumeData(copied))).shared).toBe(0);
    expect(await sha256(volumeData(copied))).toBe(sourceSum);
    console.log(`FIGURE raw import 1 GiB: reflink (same btrfs) ${fast.ms.toFixed(0)} ms, pool grew ${((usedAfter - usedBefore) / MiB).toFixed(1)} MiB; full copy (ext4 -> btrfs) ${slow.ms.toFixed(0)} ms`);

    for (const id of [reflinked, copied]) await client.deleteVolume(id);
    await rm(onPool);
    await rm(offPool);
  });

  it("keeps a sparse raw file sparse and grows the volume to a larger size when asked", async () => {
    const file = join(configuredDir(), "sparse.raw");
    await sparseFile(file, 256 * MiB, [[0, MiB], [200 * MiB, 2 * MiB]]);
    const id = newId();
    const volume = await client.createVolumeFromImage(id, { poolId: server.poolId, sizeBytes: 512 * MiB, image: { path: file, format: "raw" } });
    expect(volume.metadata.total_capacity).toBe(512 * MiB);
    expect(volume.metadata.used_capacity).toBeLessThan(8 * MiB);
    expect(await sha256(volumeData(id), 256 * MiB)).toBe(await sha256(file));
    await client.deleteVolume(id);
    await rm(file);
  });
});

describe("volume from a qcow2 file", () => {
  it("holds the image's disk, byte for byte, at its virtual size", async () => {
    const raw = join(configuredDir(), "pattern.raw");
    const qcow2 = join(configuredDir(), "pattern.qcow2");
    await sparseFile(raw, 96 * MiB, [[0, 3 * MiB], [50 * MiB, MiB], [96 * MiB - 4096, 4096]]);
    await execFileAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    const id = newId();
    const volume = await client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: qcow2, format: "qcow2" }, name: "from-qcow2" });
    expect(volume.metadata.total_capacity).toBe(96 * MiB);
    expect(volume.metadata.display_name).toBe("from-qcow2");
    expect(volume.metadata.used_capacity).toBeLessThan(16 * MiB);
    expect(await sha256(volumeData(id))).toBe(await sha256(raw));
    await client.deleteVolume(id);
    await rm(raw);
    await rm(qcow2);
  });
});

describe("volume from a URL", () => {
  it("fetches a sparse raw image and writes its zero blocks as holes", async () => {
    const file = join(configuredDir(), "served.raw");
    await sparseFile(file, 512 * MiB, [[0, 2 * MiB], [300 * MiB, 2 * MiB]]);
    served.set("/disk.raw", { file });
    const id = newId();
    const { value: volume, ms } = await timed(() => client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: `${httpBase}/disk.raw`, format: "raw" } }));
    expect(volume.metadata.total_capacity).toBe(512 * MiB);
    expect(volume.metadata.used_capacity).toBeLessThan(8 * MiB);
    expect(await sha256(volumeData(id))).toBe(await sha256(file));
    console.log(`FIGURE URL raw import: image 512 MiB (4 MiB data), ${bytesServed.get("/disk.raw")} bytes over the wire, ${volume.metadata.used_capacity} bytes allocated on the pool, ${ms.toFixed(0)} ms`);
    await client.deleteVolume(id);
    await rm(file);
  });

  it("takes a gzip-coded transfer from a compressing server: the zeros barely cross the wire", async () => {
    const file = join(configuredDir(), "served-gzip.raw");
    await sparseFile(file, 512 * MiB, [[0, 2 * MiB], [300 * MiB, 2 * MiB]]);
    served.set("/gzip.raw", { file, gzip: true });
    const id = newId();
    const { value: volume, ms } = await timed(() => client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: `${httpBase}/gzip.raw`, format: "raw" } }));
    expect(volume.metadata.total_capacity).toBe(512 * MiB);
    expect(volume.metadata.used_capacity).toBeLessThan(8 * MiB);
    expect(bytesServed.get("/gzip.raw")).toBeLessThan(16 * MiB);
    expect(await sha256(volumeData(id))).toBe(await sha256(file));
    console.log(`FIGURE URL raw import, gzip-coded: image 512 MiB (4 MiB data), ${bytesServed.get("/gzip.raw")} bytes over the wire, ${volume.metadata.used_capacity} bytes allocated, ${ms.toFixed(0)} ms`);
    await client.deleteVolume(id);
    await rm(file);
  });

  it("fetches a qcow2 image (only its clusters cross the wire) and converts it", async () => {
    const raw = join(configuredDir(), "served-src.raw");
    const qcow2 = join(configuredDir(), "served.qcow2");
    await sparseFile(raw, 512 * MiB, [[MiB, 2 * MiB], [400 * MiB, 2 * MiB]]);
    await execFileAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    served.set("/disk.qcow2", { file: qcow2 });
    const id = newId();
    const volume = await client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: `${httpBase}/disk.qcow2`, format: "qcow2" } });
    expect(volume.metadata.total_capacity).toBe(512 * MiB);
    expect(volume.metadata.used_capacity).toBeLessThan(8 * MiB);
    expect(await sha256(volumeData(id))).toBe(await sha256(raw));
    console.log(`FIGURE URL qcow2 import: image 512 MiB (4 MiB data), qcow2 file ${statSync(qcow2).size} bytes, ${bytesServed.get("/disk.qcow2")} bytes over the wire`);
    // The downloaded qcow2 was a temporary file on the pool: gone once converted.
    expect(leftoversOf(id)).toEqual([`subvolume volumes/${id}`]);
    await client.deleteVolume(id);
    await rm(raw);
    await rm(qcow2);
  });
});

describe("export to image files", () => {
  let volumeId: string;
  let volumeSum: string;

  beforeAll(async () => {
    const source = join(configuredDir(), "export-src.raw");
    await sparseFile(source, 128 * MiB, [[0, MiB], [64 * MiB, 3 * MiB]]);
    volumeId = newId();
    await client.createVolumeFromImage(volumeId, { poolId: server.poolId, image: { path: source, format: "raw" } });
    volumeSum = await sha256(source);
    await rm(source);
  });

  afterAll(async () => {
    await client.deleteVolume(volumeId).catch(() => undefined);
  });

  it("writes raw as a reflink in the pool's directory and streams it gzip-coded", async () => {
    const id = newId();
    const image = await client.exportImage(id, { sourceVolume: volumeId, format: "raw" });
    expect(image.metadata).toMatchObject({ format: "raw", virtual_size: 128 * MiB, file_size: 128 * MiB, path: join(poolLibrary(), `${id}.raw`) });
    expect(await sha256(image.metadata.path)).toBe(volumeSum);
    expect((await sharedBytes(image.metadata.path)).shared).toBeGreaterThanOrEqual(4 * MiB);

    const download = await dplRequestBytes(image.metadata.content_uri, { "accept-encoding": "gzip" });
    expect(download.headers["content-encoding"]).toBe("gzip");
    const plain = gunzipSync(download.body);
    expect(createHash("sha256").update(plain).digest("hex")).toBe(volumeSum);
    console.log(`FIGURE raw download: 128 MiB image (4 MiB data), ${download.body.length} bytes over the wire gzip-coded`);
    await client.deleteImage(id);
    expect(existsSync(image.metadata.path)).toBe(false);
    expect(await client.getImage(id)).toBeUndefined();
  });

  it("writes qcow2 (snapshot source, configured directory) whose disk matches, and streams the file", async () => {
    const snapshotId = newId();
    await client.createSnapshot(volumeId, snapshotId);
    const id = newId();
    const image = await client.exportImage(id, { sourceVolume: volumeId, sourceSnapshot: snapshotId, format: "qcow2", directory: configuredDir() });
    expect(image.metadata).toMatchObject({ format: "qcow2", virtual_size: 128 * MiB, path: join(configuredDir(), `${id}.qcow2`) });
    expect(image.metadata.file_size).toBeLessThan(8 * MiB);
    const back = join(configuredDir(), "back.raw");
    await execFileAsync("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", image.metadata.path, back]);
    expect(await sha256(back)).toBe(volumeSum);
    await rm(back);

    const download = await dplRequestBytes(image.metadata.content_uri, {});
    expect(download.body.length).toBe(image.metadata.file_size);
    expect(createHash("sha256").update(download.body).digest("hex")).toBe(await sha256(image.metadata.path));
    console.log(`FIGURE qcow2 download: 128 MiB disk (4 MiB data), ${download.body.length} bytes over the wire`);

    const listed = await client.listImages();
    expect(listed.images.map((i) => i.id)).toContain(id);
    expect(listed.directories).toEqual([configuredDir(), poolLibrary()]);
    await client.deleteImage(id);
    await client.deleteSnapshot(volumeId, snapshotId);
  });

  it("refuses a directory that is not an image directory, and a missing source", async () => {
    await expectRefused(client.exportImage(newId(), { sourceVolume: volumeId, format: "raw", directory: "/tmp" }), "metadata.directory", /not one of the server's image directories/);
    const missing = client.exportImage(newId(), { sourceVolume: newId(), format: "raw" });
    await expect(missing).rejects.toMatchObject({ code: "NOT_FOUND", field: "metadata.source_volume" });
  });
});

describe("refusals leave nothing behind", () => {
  it("refuses a path outside the image directories, naming image.path", async () => {
    const id = newId();
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: "/etc/hostname", format: "raw" } }), "image.path", /outside the server's image directories/);
    // A symlink inside a directory that points outside is refused too.
    const link = join(configuredDir(), "escape.raw");
    await execFileAsync("ln", ["-sf", "/etc/hostname", link]);
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: link, format: "raw" } }), "image.path", /outside/);
    await rm(link);
    expect(await client.getVolume(id)).toBeUndefined();
    expect(leftoversOf(id)).toEqual([]);
  });

  it("refuses an unreachable URL and a missing one, naming image.url, with one neutral text", async () => {
    const id = newId();
    const closed = await closedPort();
    const unreachable = `http://127.0.0.1:${closed}/disk.raw`;
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: unreachable, format: "raw" } }), "image.url", new RegExp(`could not fetch ${unreachable.replaceAll(".", "\\.")}: the host may not be reached from this server, did not answer, or did not serve an image there`));
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: `${httpBase}/nothing.raw`, format: "raw" } }), "image.url", /could not fetch \S+: the host may not be reached from this server, did not answer, or did not serve an image there/);
    expect(await client.getVolume(id)).toBeUndefined();
    expect(leftoversOf(id)).toEqual([]);
  });

  it("refuses a size below the image's, a wrong format and a backing file, naming the field", async () => {
    const raw = join(configuredDir(), "small.raw");
    const qcow2 = join(configuredDir(), "small.qcow2");
    const overlay = join(configuredDir(), "overlay.qcow2");
    await sparseFile(raw, 64 * MiB, [[0, MiB]]);
    await execFileAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    await execFileAsync("qemu-img", ["create", "-f", "qcow2", "-F", "raw", "-b", raw, overlay]);
    const id = newId();
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, sizeBytes: 32 * MiB, image: { path: raw, format: "raw" } }), "metadata.total_capacity", /smaller than the image's virtual size/);
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: qcow2, format: "raw" } }), "image.format", /is a qcow2 image, not raw/);
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: raw, format: "qcow2" } }), "image.format", /not raw|not qcow2|qcow2/);
    await expectRefused(client.createVolumeFromImage(id, { poolId: server.poolId, image: { path: overlay, format: "qcow2" } }), "image.path", /backing file/);
    expect(await client.getVolume(id)).toBeUndefined();
    for (const file of [raw, qcow2, overlay]) await rm(file);
  });

  it("a download cut short fails the event and leaves no volume, subvolume or temporary file", async () => {
    const file = join(configuredDir(), "cut.raw");
    await sparseFile(file, 64 * MiB, [[0, 8 * MiB], [32 * MiB, 8 * MiB]]);
    served.set("/cut.raw", { file, truncateAt: 12 * MiB });
    served.set("/cut.qcow2", { file: join(configuredDir(), "cut.qcow2"), truncateAt: 2 * MiB });
    await execFileAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", file, join(configuredDir(), "cut.qcow2")]);
    for (const [path, format] of [["/cut.raw", "raw"], ["/cut.qcow2", "qcow2"]] as const) {
      const id = newId();
      const error: unknown = await client.createVolumeFromImage(id, { poolId: server.poolId, image: { url: `${httpBase}${path}`, format } }).then(() => undefined, (e: unknown) => e);
      expect(String(error)).toMatch(/could not fetch|ended after/);
      expect(await client.getVolume(id)).toBeUndefined();
      expect(leftoversOf(id)).toEqual([]);
    }
    await rm(file);
    await rm(join(configuredDir(), "cut.qcow2"));
  });

  it("a restart removes unfinished image files a crash left (and nothing else)", async () => {
    const strays = [join(mountPoint(), "scratch", ".0123.qcow2.partial"), join(configuredDir(), ".abc.raw.partial"), join(poolLibrary(), ".def.qcow2.partial")];
    const keeper = join(configuredDir(), "keep-me.raw");
    mkdirSync(join(mountPoint(), "scratch"), { recursive: true });
    for (const file of [...strays, keeper]) await sparseFile(file, MiB, [[0, 4096]]);
    await server.restart();
    for (const file of strays) expect(existsSync(file), file).toBe(false);
    expect(existsSync(keeper)).toBe(true);
    const report = await dplRequest(server, "GET", "/v1/dpl_system/reconcile/");
    expect(JSON.stringify(report.body)).toContain(".abc.raw.partial");
    await rm(keeper);
  });

  it("refuses bad input at the wire edge: a non-http URL, both path and url, an unknown format", async () => {
    const id = newId();
    const refuse = async (image: unknown, field: string): Promise<void> => {
      const reply = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, { body: { metadata: { pool_uuid: server.poolId }, image } });
      expect(reply.status).toBe(400);
      expect((reply.body as { error: { field: string } }).error.field).toBe(field);
    };
    await refuse({ url: "file:///etc/passwd", format: "raw" }, "image.url");
    await refuse({ path: "/a/../etc/passwd", format: "raw" }, "image.path");
    await refuse({ path: "/a.raw", url: "http://x/a.raw", format: "raw" }, "image.path");
    await refuse({ path: "/a.vmdk", format: "vmdk" }, "image.format");
    expect(await client.getVolume(id)).toBeUndefined();
  });
});

/** A loopback port nothing listens on (one the kernel just handed out and we closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    probe.close(() => { resolve(); });
  });
  return port;
}

/** The raw bytes of a GET (the test helper reads text). */
async function dplRequestBytes(path: string, headers: Record<string, string>): Promise<{ body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const { request, Agent } = await import("undici");
  const agent = new Agent({ connect: { ca: server.caPem === "" ? undefined : server.caPem } });
  try {
    const response = await request(`${server.url}${path}`, {
      headers: { authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString("base64")}`, ...headers },
      dispatcher: agent,
    });
    expect(response.statusCode).toBe(200);
    return { body: Buffer.from(await response.body.arrayBuffer()), headers: response.headers };
  } finally {
    await agent.close();
  }
}

