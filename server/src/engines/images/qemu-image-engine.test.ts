/**
 * QemuImageEngine on real qemu-img and cp, in a scratch directory (no root needed): it reads and
 * writes only the regular files it opened itself, through their descriptors.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { QemuImageEngine } from "./qemu-image-engine";

const MiB = 2 ** 20;
const root = mkdtempSync(join(tmpdir(), "qemu-image-engine-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const engine = new QemuImageEngine();

/** A 4 MiB raw disk whose second MiB holds `byte`. */
function rawDisk(name: string, byte: number): string {
  const file = join(root, name);
  const data = Buffer.alloc(4 * MiB);
  data.fill(byte, MiB, 2 * MiB);
  writeFileSync(file, data);
  return file;
}

describe("QemuImageEngine", () => {
  it("inspects a regular raw file, and refuses a symlink to it and a FIFO without probing them", async () => {
    const disk = rawDisk("plain.raw", 0x41);
    expect(await engine.inspectFile(disk, "raw")).toMatchObject({ format: "raw", virtualSize: 4 * MiB, fileSize: 4 * MiB });
    const link = join(root, "link.raw");
    symlinkSync(disk, link);
    await expect(engine.inspectFile(link, "raw")).rejects.toThrow(`${link} is a symlink; name the image file itself`);
    await expect(engine.resolvePath(link)).resolves.toBe(disk);
    const fifo = join(root, "pipe.raw");
    execFileSync("mkfifo", [fifo]);
    await expect(engine.inspectFile(fifo, "raw")).rejects.toThrow(`${fifo} is not a regular file`);
    await expect(engine.resolvePath(join(root, "missing.raw"))).rejects.toThrow(/missing\.raw does not exist/);
  });

  it("names the file, not its descriptor, when qemu-img refuses it", async () => {
    const disk = rawDisk("not-qcow2.raw", 0x42);
    await expect(engine.inspectFile(disk, "qcow2")).rejects.toThrow(`${disk} is a raw image, not qcow2`);
  });

  it("writes a raw volume as qcow2 into a file it made itself, and reads it back as raw", async () => {
    const disk = rawDisk("volume.raw", 0x5a);
    const image = join(root, "library", "0123456789abcdef0123456789abcdef.qcow2");
    await engine.writeImage(disk, image, "qcow2");
    expect(statSync(image).mode & 0o777).toBe(0o644);
    expect(await engine.inspectFile(image, "qcow2")).toMatchObject({ format: "qcow2", virtualSize: 4 * MiB });
    const back = join(root, "back.raw");
    await engine.writeRaw({ path: image, format: "qcow2" }, back);
    expect(readFileSync(back).equals(readFileSync(disk))).toBe(true);
  });

  it("copies a raw image through its descriptor, and refuses a symlinked source", async () => {
    const disk = rawDisk("source.raw", 0x33);
    const copy = join(root, "copy.raw");
    await engine.writeRaw({ path: disk, format: "raw" }, copy);
    expect(readFileSync(copy).equals(readFileSync(disk))).toBe(true);
    const link = join(root, "source-link.raw");
    symlinkSync(disk, link);
    const refused = join(root, "refused.raw");
    await expect(engine.writeRaw({ path: link, format: "raw" }, refused)).rejects.toThrow(/is a symlink/);
    expect(() => statSync(refused)).toThrow(/ENOENT/);
  });
});
