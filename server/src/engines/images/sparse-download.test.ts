import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnusableImageError } from "../../core/ports";
import { downloadSparse, inspectUrlImage, qcow2Header } from "./sparse-download";
import { UrlGuard } from "./url-guard";

const MiB = 2 ** 20;
/** 8 MiB + 123 bytes: data at the start, at 5 MiB and in the odd-sized tail; zeros elsewhere. */
const image = Buffer.alloc(8 * MiB + 123);
randomBytes(64 * 1024).copy(image, 0);
randomBytes(4096).copy(image, 5 * MiB);
randomBytes(100).copy(image, 8 * MiB + 10);

/** The test's HTTP server is on loopback, which the server refuses unless the operator allows it. */
const loopback = new UrlGuard(["127.0.0.1/32"]);
let server: Server;
let endlessSent = 0;
let base = "";
const dir = mkdtempSync(join(tmpdir(), "sparse-download-"));

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === "/endless") {
      // No length, data for ever: only the byte cap ends it.
      response.writeHead(200);
      const pump = (): void => {
        while (response.write(image.subarray(0, MiB))) endlessSent += MiB;
        endlessSent += MiB;
      };
      response.on("drain", pump);
      request.on("close", () => response.off("drain", pump));
      pump();
      return;
    }
    if (request.url?.startsWith("/trickle/") === true) {
      // 16 KiB every `gap` ms, `chunks` times: a slow but live server.
      const [, , gap, chunks] = request.url.split("/").map(Number);
      response.writeHead(200, { "content-length": String(16 * 1024 * (chunks ?? 0)) });
      let sent = 0;
      const timer = setInterval(() => {
        response.write(Buffer.alloc(16 * 1024, 1));
        if (++sent === chunks) {
          clearInterval(timer);
          response.end();
        }
      }, gap);
      request.on("close", () => { clearInterval(timer); });
      return;
    }
    if (request.url === "/stall") {
      response.writeHead(200, { "content-length": String(image.length) });
      response.write(image.subarray(0, 64 * 1024));
      return;
    }
    if (request.url?.startsWith("/redirect/") === true) {
      // To another loopback address on the same port (Linux answers on all of 127.0.0.0/8).
      response.writeHead(302, { location: `http://${request.url.slice("/redirect/".length)}:${(server.address() as AddressInfo).port}/image` });
      response.end();
      return;
    }
    if (request.url === "/missing") {
      response.writeHead(404).end();
      return;
    }
    if (request.url === "/cut") {
      response.writeHead(200, { "content-length": String(image.length) });
      response.write(image.subarray(0, MiB), () => response.destroy());
      return;
    }
    response.writeHead(200, { "content-length": String(image.length) });
    response.end(request.method === "HEAD" ? undefined : image);
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => { resolve(); });
  });
  rmSync(dir, { recursive: true, force: true });
});

describe("downloadSparse", () => {
  it("writes the bytes exactly, leaving zero blocks as holes", async () => {
    const file = join(dir, "image.raw");
    const fractions: number[] = [];
    const outcome = await downloadSparse(`${base}/image`, file, (f) => fractions.push(f), { guard: loopback, maxBytes: image.length });
    expect(readFileSync(file).equals(image)).toBe(true);
    expect(outcome.bytesReceived).toBe(image.length);
    // 64 KiB + 4 KiB + the tail's last block: everything else was skipped.
    expect(outcome.bytesWritten).toBe(64 * 1024 + 4096 + 123);
    expect(statSync(file).blocks * 512).toBeLessThan(512 * 1024);
    expect(fractions.every((f, i) => f > 0 && f < 1 && (i === 0 || f > (fractions[i - 1] ?? 0)))).toBe(true);
  });

  it("fails on a body cut short and removes the file", async () => {
    const file = join(dir, "cut.raw");
    await expect(downloadSparse(`${base}/cut`, file, () => undefined, { guard: loopback, maxBytes: image.length })).rejects.toBeInstanceOf(UnusableImageError);
    expect(existsSync(file)).toBe(false);
  });
});

describe("downloadSparse's limits", () => {
  it("stops an endless body as soon as it passes the byte cap, and removes the file", async () => {
    const file = join(dir, "endless.raw");
    await expect(downloadSparse(`${base}/endless`, file, () => undefined, { guard: loopback, maxBytes: 4 * MiB })).rejects.toThrow(/sent more than the 4194304 bytes admitted/);
    expect(existsSync(file)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The server could only push what the socket buffers held once the body was cancelled.
    expect(endlessSent).toBeLessThan(64 * MiB);
  });

  it("refuses a declared length above the cap before writing anything", async () => {
    const file = join(dir, "long.raw");
    await expect(downloadSparse(`${base}/image`, file, () => undefined, { guard: loopback, maxBytes: MiB })).rejects.toThrow(/more than the 1048576 admitted/);
    expect(existsSync(file)).toBe(false);
  });

  it("lets a slow but steady download run past the idle limit, which is not a total deadline", async () => {
    const file = join(dir, "trickle.raw");
    // 12 chunks 100 ms apart: 1.2 s in all, never 400 ms of silence.
    const outcome = await downloadSparse(`${base}/trickle/100/12`, file, () => undefined, { guard: loopback, maxBytes: MiB, idleMs: 400, overallMs: 10_000 });
    expect(outcome.bytesReceived).toBe(12 * 16 * 1024);
  });

  it("fails a server that goes silent, and one slower than the overall limit, saying which", async () => {
    await expect(downloadSparse(`${base}/stall`, join(dir, "stall.raw"), () => undefined, { guard: loopback, maxBytes: image.length, idleMs: 300 }))
      .rejects.toThrow(/could not fetch .*: no data for 0.3 s/);
    await expect(downloadSparse(`${base}/trickle/100/30`, join(dir, "slow.raw"), () => undefined, { guard: loopback, maxBytes: MiB, idleMs: 5_000, overallMs: 700 }))
      .rejects.toThrow(/could not fetch .*: the download took longer than 0.7 s/);
    expect(existsSync(join(dir, "stall.raw")) || existsSync(join(dir, "slow.raw"))).toBe(false);
  });
});

describe("what an image URL may reach", () => {
  const neutral = /^could not fetch .*: the host may not be reached from this server, did not answer, or did not serve an image there$/;
  const port = (): number => (server.address() as AddressInfo).port;

  it("refuses loopback, private, link-local and unspecified hosts in every spelling, with one neutral error", async () => {
    const open = new UrlGuard();
    const hosts = [
      "127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
      "0.0.0.0", "[::]", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "[fe80::1]", "[fd00::1]",
    ];
    for (const host of hosts) {
      const url = `http://${host}:${port()}/image`;
      const error = await inspectUrlImage(url, "raw", open).then(() => undefined, (e: unknown) => e);
      expect(error, host).toBeInstanceOf(UnusableImageError);
      expect((error as Error).message, host).toMatch(neutral);
    }
  });

  it("answers a closed port and a 404 exactly like a refused host", async () => {
    const closed = await inspectUrlImage("http://127.0.0.1:1/image", "raw", loopback).catch((e: unknown) => e);
    const missing = await inspectUrlImage(`${base}/missing`, "raw", loopback).catch((e: unknown) => e);
    expect((closed as Error).message.replace(/^could not fetch \S+/, "")).toBe((missing as Error).message.replace(/^could not fetch \S+/, ""));
    expect((missing as Error).message).toMatch(neutral);
  });

  it("checks every redirect hop: one to a host not allowed fails, one to an allowed host is followed", async () => {
    await expect(inspectUrlImage(`${base}/redirect/127.0.0.2`, "raw", loopback)).rejects.toThrow(neutral);
    const both = new UrlGuard(["127.0.0.1/32", "127.0.0.2/32"]);
    expect(await inspectUrlImage(`${base}/redirect/127.0.0.2`, "raw", both)).toEqual({ format: "raw", virtualSize: image.length });
  });

  it("refuses other schemes and credentials in the URL, and names a bad allow-list entry", async () => {
    await expect(new UrlGuard().pin(new URL("file:///etc/passwd"))).rejects.toThrow(/scheme file: is not fetched/);
    await expect(loopback.pin(new URL(`http://u:p@127.0.0.1:${port()}/`))).rejects.toThrow(/credentials/);
    expect(() => new UrlGuard(["10.0.0.0/33"])).toThrow(/not a network: "10.0.0.0\/33"/);
  });
});

describe("inspectUrlImage and the qcow2 header", () => {
  it("takes a raw image's size from its length, and refuses what is not qcow2 as qcow2", async () => {
    expect(await inspectUrlImage(`${base}/image`, "raw", loopback)).toEqual({ format: "raw", virtualSize: image.length });
    await expect(inspectUrlImage(`${base}/image`, "qcow2", loopback)).rejects.toThrow(/is not a qcow2 image/);
  });

  it("reads the virtual size and the backing file offset", () => {
    const header = Buffer.alloc(72);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(0n, 8);
    header.writeBigUInt64BE(BigInt(10 * 2 ** 30), 24);
    expect(qcow2Header(header)).toEqual({ virtualSize: 10 * 2 ** 30, backingFileOffset: 0n });
    expect(qcow2Header(Buffer.alloc(72))).toBeUndefined();
  });
});
