/**
 * VolumeFromImage and ImageExport through the real pulumi engine against a real DPL server: bad
 * image inputs (a path outside the server's image directories too) fail preview naming the field, up makes a volume from a URL and writes it out as a
 * raw image file whose bytes are the image's disk, a second preview is empty, a new image URL
 * replaces the volume (preview says why; the old volume's data is kept unless the program sets
 * deleteDataOnReplace), and destroy removes the image file.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { changingSteps, createProgramStack, stepRecorder, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;

function program(poolId: string, image: { url?: string; path?: string; format: string }, exportDirectory?: string, deleteDataOnReplace?: boolean): string {
  const directory = exportDirectory === undefined ? "" : `, directory: ${JSON.stringify(exportDirectory)}`;
  const optIn = deleteDataOnReplace === undefined ? "" : `, deleteDataOnReplace: ${String(deleteDataOnReplace)}`;
  return `import * as dpl from "@prophetstor/pulumi-dpl";
const disk = new dpl.VolumeFromImage("disk", { pool: ${JSON.stringify(poolId)}, image: ${JSON.stringify(image)}, name: "e2e-image"${optIn} });
const exported = new dpl.ImageExport("disk-raw", { volume: disk, format: "raw"${directory} });
export const volumeId = disk.volumeId;
export const sizeBytes = disk.sizeBytes;
export const usedBytes = disk.usedBytes;
export const imagePath = exported.path;
export const imageFormat = exported.format;
export const virtualBytes = exported.virtualBytes;
export const allocatedBytes = exported.allocatedBytes;
`;
}

/** What a command showed its user: the provider's notes are on stderr in a preview, in Diagnostics after an up. */
const said = (result: { stdout: string; stderr: string }): string => `${result.stdout}\n${result.stderr}`;

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

describe("images through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  let baseUrl = "";
  let rawSum = "";
  const cleanups = new Cleanups();

  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "4GiB", extraArgs: ["--allow-image-url-network", "127.0.0.0/8"] }); // the image server is on loopback
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());

    const dir = mkdtempSync(join(resolve(__dirname, "..", "..", ".work"), "e2e-images-"));
    cleanups.add(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
    const raw = join(dir, "disk.raw");
    execFileSync("qemu-img", ["create", "-f", "raw", raw, String(96 * MIB)]);
    execFileSync("dd", ["if=/dev/urandom", `of=${raw}`, "bs=1M", "count=2", "seek=40", "conv=notrunc", "status=none"]);
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, join(dir, "disk.qcow2")]);
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=131072", raw, join(dir, "disk-v2.qcow2")]);
    rawSum = sha256(raw);
    const http = createServer((request, response) => {
      const file = join(dir, (request.url ?? "/").slice(1));
      if (!existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-length": String(statSync(file).size) });
      if (request.method === "HEAD") response.end();
      else createReadStream(file).pipe(response);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    cleanups.add(() => new Promise<void>((r) => {
      http.close(() => { r(); });
    }));
    baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    stack = await createProgramStack("images", program(server.poolId, { url: `${baseUrl}/disk.qcow2`, format: "qcow2" }), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("fails preview naming the field for a bad URL, a path with '..' or outside the image directories, an unknown format, a foreign export directory", async () => {
    const failure = async (image: { url?: string; path?: string; format: string }): Promise<string> => {
      stack.writeProgram(program(server.poolId, image));
      return stack.stack.preview().then(() => "preview passed", (err: unknown) => String(err));
    };
    expect(await failure({ url: "ftp://images.example.org/disk.qcow2", format: "qcow2" })).toMatch(/property image\.url [^\n]*has a problem: must be an http:\/\/ or https:\/\/ URL/);
    expect(await failure({ path: "/srv/images/../../etc/shadow", format: "raw" })).toMatch(/property image\.path [^\n]*has a problem: must not contain '\.' or '\.\.' segments/);
    expect(await failure({ url: `${baseUrl}/disk.vmdk`, format: "vmdk" })).toMatch(/property image\.format [^\n]*has a problem/);
    // Asked of the server at preview: its image directories.
    expect(await failure({ path: "/etc/hostname", format: "raw" })).toMatch(/property image\.path [^\n]*has a problem: is outside the DPL server's image directories/);
    stack.writeProgram(program(server.poolId, { url: `${baseUrl}/disk.qcow2`, format: "qcow2" }, "/tmp"));
    const directoryError = await stack.stack.preview().then(() => "preview passed", (err: unknown) => String(err));
    expect(directoryError).toMatch(/property directory [^\n]*has a problem: is not one of the DPL server's image directories/);
    expect(await client.listVolumes()).toEqual([]);
  });

  it("up makes the volume from the URL and a raw image of it whose bytes are the image's disk", async () => {
    stack.writeProgram(program(server.poolId, { url: `${baseUrl}/disk.qcow2`, format: "qcow2" }));
    const result = await stack.stack.up({ onOutput: () => undefined });
    const out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
    expect(out.sizeBytes).toBe(96 * MIB);
    expect(Number(out.usedBytes)).toBeLessThan(8 * MIB);
    expect(out.imageFormat).toBe("raw");
    expect(out.virtualBytes).toBe(96 * MIB);
    expect(String(out.imagePath)).toBe(join(server.stateDir, "pools", server.poolId, "images", String(out.imagePath).split("/").pop() ?? ""));
    expect(sha256(String(out.imagePath))).toBe(rawSum);

    const recorder = stepRecorder();
    await stack.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toEqual({});
  });

  it("a new image replaces the volume, preview says why, and the old volume's data is kept unless the program opts in", async () => {
    const before = await client.listImages();
    expect(before.images).toHaveLength(1);
    const [original] = (await client.listVolumes()).map((v) => v.id);
    stack.writeProgram(program(server.poolId, { url: `${baseUrl}/disk-v2.qcow2`, format: "qcow2" }));
    const recorder = stepRecorder();
    const preview = await stack.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toMatchObject({ "VolumeFromImage:disk": "replace", "ImageExport:disk-raw": "replace" });
    expect(said(preview)).toMatch(new RegExp(`VolumeFromImage ${original ?? "?"} \\("e2e-image"\\) is replaced \\(image: a volume's image is its data`));
    expect(said(preview)).toMatch(/the old volume is kept on the server with its data \(out of the stack\) unless deleteDataOnReplace is true/);

    // Without the opt-in the replacement's delete keeps the old volume, and says so.
    const kept = await stack.stack.up({ onOutput: () => undefined });
    expect(said(kept)).toMatch(new RegExp(`kept VolumeFromImage ${original ?? "?"} and its \\d+ bytes of data`));
    const afterKeep = (await client.listVolumes()).map((v) => v.id);
    expect(afterKeep).toHaveLength(2);
    expect(afterKeep).toContain(original);
    const replacement = afterKeep.find((id) => id !== original);

    // With it, the next replacement deletes the volume it replaces.
    // (A third image: the first one's derived id is the kept volume's, which the create would take over.)
    stack.writeProgram(program(server.poolId, { url: `${baseUrl}/disk.raw`, format: "raw" }, undefined, true));
    const optedIn = await stack.stack.up({ onOutput: () => undefined });
    expect(said(optedIn)).toMatch(/deleteDataOnReplace is true, so the old volume and its data are deleted/);
    const afterOptIn = (await client.listVolumes()).map((v) => v.id);
    expect(afterOptIn).not.toContain(replacement);
    expect(afterOptIn).toContain(original);

    await stack.stack.destroy({ onOutput: () => undefined });
    expect((await client.listVolumes()).map((v) => v.id)).toEqual([original]);
    if (original !== undefined) await client.deleteVolume(original);
    expect((await client.listImages()).images).toEqual([]);
  });
});
