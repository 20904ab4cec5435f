/**
 * Real btrfs on real loop devices (needs root). Every pool this file makes is destroyed in
 * afterAll/afterEach, and the tests check that no loop device or mount is left behind.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PoolDeviceRecord } from "../../core/ports";
import { runCommand } from "../command";
import { InvalidPoolRequestError, VolumeNotFoundError } from "./btrfs-layout";
import { BtrfsPoolEngine } from "./btrfs-pool-engine";
import { BtrfsVolumeEngine } from "./btrfs-volume-engine";

const MiB = 2 ** 20;
const workRoot = path.resolve(__dirname, "../../../../.work");

async function loopsBackedBy(dir: string): Promise<string[]> {
  const { stdout } = await runCommand("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"]);
  return stdout.split("\n").filter((line) => line.includes(dir));
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile("/proc/self/mounts", "utf8")).split("\n").filter((line) => line.split(" ")[1]?.startsWith(dir));
}

/** Compared by digest: vitest's deep equality walks a 1 MiB Buffer byte by byte, for seconds. */
function digest(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function writeRange(file: string, offset: number, data: Buffer): Promise<void> {
  const handle = await open(file, "r+");
  try {
    await handle.write(data, 0, data.length, offset);
  } finally {
    await handle.close();
  }
}

async function subvolumeIdOf(dir: string): Promise<string> {
  return (await runCommand("btrfs", ["inspect-internal", "rootid", dir])).stdout.trim();
}

let stateDir: string;
let engine: BtrfsPoolEngine;
let volumeEngine: BtrfsVolumeEngine;
/** Pools still to destroy if a test fails half-way. */
const livePools = new Map<string, PoolDeviceRecord[]>();

beforeAll(async () => {
  await runCommand("mkdir", ["-p", workRoot]);
  stateDir = await mkdtemp(path.join(workRoot, "btrfs-engine-"));
  engine = new BtrfsPoolEngine({ stateDir });
  volumeEngine = new BtrfsVolumeEngine({ stateDir });
});

afterAll(async () => {
  for (const [poolId, devices] of livePools) await engine.destroyPool(poolId, devices).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

describe("pools", () => {
  afterEach(async () => {
    for (const [poolId, devices] of livePools) await engine.destroyPool(poolId, devices);
    livePools.clear();
    expect(await loopsBackedBy(stateDir)).toEqual([]);
    expect(await mountsUnder(stateDir)).toEqual([]);
  });

  it("creates, detaches, re-attaches and destroys a single-device pool without leftovers", async () => {
    const devices = await engine.createPool("single1", "single", "zstd:3", [{ type: "image_file", size: 256 * MiB }]);
    livePools.set("single1", devices);
    expect(devices).toHaveLength(1);
    const [device] = devices;
    expect(device?.path.startsWith(path.join(stateDir, "images", "single1"))).toBe(true);
    // Sparse: a fresh 256 MiB image takes a few MiB of host space.
    expect((await stat(device?.path ?? "")).blocks * 512).toBeLessThan(64 * MiB);
    const mounts = await mountsUnder(engine.mountPoint("single1"));
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toContain("compress=zstd:3");
    expect(existsSync(path.join(engine.mountPoint("single1"), "volumes"))).toBe(true);

    await volumeEngine.createVolume("single1", "v1", 8 * MiB, true, "none");
    await writeFile(path.join(engine.mountPoint("single1"), "marker"), "kept");
    await engine.detachPool("single1", devices);
    await engine.detachPool("single1", devices);
    expect(await loopsBackedBy(stateDir)).toEqual([]);
    expect(await mountsUnder(stateDir)).toEqual([]);
    expect((await engine.health("single1", devices)).state).toBe("Offline");

    await engine.attachPool("single1", devices, "zstd:3");
    await engine.attachPool("single1", devices, "zstd:3");
    expect(await mountsUnder(engine.mountPoint("single1"))).toHaveLength(1);
    expect(await readFile(path.join(engine.mountPoint("single1"), "marker"), "utf8")).toBe("kept");
    expect(await volumeEngine.listOnDisk("single1")).toEqual({ volumes: ["v1"], snapshots: [] });
    const health = await engine.health("single1", devices);
    expect(health.state).toBe("Online");
    expect(health.devices[0]).toMatchObject({ present: true, errors: { read: 0, write: 0, corruption: 0 } });

    await engine.destroyPool("single1", devices);
    await engine.destroyPool("single1", devices);
    expect(existsSync(device?.path ?? "")).toBe(false);
    expect(existsSync(engine.mountPoint("single1"))).toBe(false);
  });

  it("makes raid1 over two image files with usable capacity after redundancy", async () => {
    const devices = await engine.createPool("mirror1", "raid1", "none", [
      { type: "image_file", size: 512 * MiB },
      { type: "image_file", size: 512 * MiB },
    ]);
    livePools.set("mirror1", devices);
    const { stdout } = await runCommand("btrfs", ["filesystem", "df", "-b", engine.mountPoint("mirror1")]);
    expect(stdout).toMatch(/Data, RAID1/);
    expect(stdout).toMatch(/Metadata, RAID1/);
    const before = await engine.usage("mirror1");
    // Two 512 MiB mirrors hold under 512 MiB of data, not 1 GiB.
    expect(before.totalBytes).toBeLessThan(512 * MiB);
    expect(before.totalBytes).toBeGreaterThan(300 * MiB);
    expect(before.totalBytes).toBe(before.usedBytes + before.freeBytes);

    await volumeEngine.createVolume("mirror1", "v1", 64 * MiB, false, "none");
    await runCommand("sync", []);
    const after = await engine.usage("mirror1");
    expect(after.usedBytes - before.usedBytes).toBeGreaterThanOrEqual(64 * MiB);
    const health = await engine.health("mirror1", devices);
    expect(health.state).toBe("Online");
    expect(health.devices.map((device) => device.present)).toEqual([true, true]);

    await engine.detachPool("mirror1", devices);
    expect(await loopsBackedBy(stateDir)).toEqual([]);
    await engine.attachPool("mirror1", devices, "none");
    expect(await volumeEngine.listOnDisk("mirror1")).toEqual({ volumes: ["v1"], snapshots: [] });
  });

  it("refuses raid1 on one device and leaves nothing behind", async () => {
    await expect(engine.createPool("bad1", "raid1", "none", [{ type: "image_file", size: 256 * MiB }])).rejects.toBeInstanceOf(
      InvalidPoolRequestError,
    );
    expect(existsSync(engine.imageDir("bad1"))).toBe(false);
  });

  it("undoes image files and loop devices when mkfs fails", async () => {
    // 16 MiB is below btrfs's minimum device size: mkfs fails after the loop device exists.
    await expect(engine.createPool("bad2", "single", "none", [{ type: "image_file", size: 16 * MiB }])).rejects.toThrow(/mkfs.btrfs/);
    expect(existsSync(engine.imageDir("bad2"))).toBe(false);
    expect(existsSync(engine.mountPoint("bad2"))).toBe(false);
  });
});

describe("volumes and snapshots", () => {
  const pool = "data1";
  let devices: PoolDeviceRecord[];

  beforeAll(async () => {
    devices = await engine.createPool(pool, "single", "none", [{ type: "image_file", size: 1024 * MiB }]);
    livePools.set(pool, devices);
  });

  afterAll(async () => {
    await engine.destroyPool(pool, devices);
    livePools.delete(pool);
    expect(await loopsBackedBy(stateDir)).toEqual([]);
  });

  it("allocates nothing for a thin volume and everything for a thick one", async () => {
    await volumeEngine.createVolume(pool, "thin", 64 * MiB, true, "none");
    await volumeEngine.createVolume(pool, "thick", 64 * MiB, false, "none");
    expect((await stat(volumeEngine.volumeDataPath(pool, "thin"))).size).toBe(64 * MiB);
    expect((await stat(volumeEngine.volumeDataPath(pool, "thick"))).size).toBe(64 * MiB);
    expect(await volumeEngine.allocatedBytes(pool, "thin")).toBe(0);
    expect(await volumeEngine.allocatedBytes(pool, "thick")).toBe(64 * MiB);
    // A retried create is a no-op.
    await volumeEngine.createVolume(pool, "thin", 64 * MiB, true, "none");
    await expect(volumeEngine.createVolume(pool, "thin", 32 * MiB, true, "none")).rejects.toBeInstanceOf(InvalidPoolRequestError);
  });

  it("grows thin and thick volumes and never shrinks them", async () => {
    await volumeEngine.createVolume(pool, "grow-thin", 16 * MiB, true, "none");
    await volumeEngine.createVolume(pool, "grow-thick", 16 * MiB, false, "none");
    await volumeEngine.resizeVolume(pool, "grow-thin", 48 * MiB, true);
    await volumeEngine.resizeVolume(pool, "grow-thick", 48 * MiB, false);
    expect((await stat(volumeEngine.volumeDataPath(pool, "grow-thin"))).size).toBe(48 * MiB);
    expect(await volumeEngine.allocatedBytes(pool, "grow-thin")).toBe(0);
    expect((await stat(volumeEngine.volumeDataPath(pool, "grow-thick"))).size).toBe(48 * MiB);
    expect(await volumeEngine.allocatedBytes(pool, "grow-thick")).toBe(48 * MiB);
    await volumeEngine.resizeVolume(pool, "grow-thin", 48 * MiB, true);
    await expect(volumeEngine.resizeVolume(pool, "grow-thin", 8 * MiB, true)).rejects.toBeInstanceOf(InvalidPoolRequestError);
    await expect(volumeEngine.resizeVolume(pool, "missing", 8 * MiB, true)).rejects.toBeInstanceOf(VolumeNotFoundError);
  });

  it("sets per-volume compression on the subvolume", async () => {
    await volumeEngine.createVolume(pool, "packed", 64 * MiB, true, "zstd");
    const { stdout } = await runCommand("btrfs", ["property", "get", volumeEngine.volumeDataPath(pool, "packed"), "compression"]);
    expect(stdout.trim()).toBe("compression=zstd");
    // Highly compressible data takes far less than its size on disk.
    await writeRange(volumeEngine.volumeDataPath(pool, "packed"), 0, Buffer.alloc(32 * MiB, "a"));
    await runCommand("sync", []);
    const { stdout: du } = await runCommand("compsize", ["-b", volumeEngine.volumeDataPath(pool, "packed")]).catch(() => ({ stdout: "" }));
    if (du) expect(du).toMatch(/zstd/);
  });

  it("keeps a snapshot's data after the volume is overwritten", async () => {
    const original = randomBytes(MiB);
    await volumeEngine.createVolume(pool, "snapsrc", 16 * MiB, true, "none");
    await writeRange(volumeEngine.volumeDataPath(pool, "snapsrc"), 0, original);
    await volumeEngine.createSnapshot(pool, "snapsrc", "s1");
    await writeRange(volumeEngine.volumeDataPath(pool, "snapsrc"), 0, randomBytes(MiB));
    expect(digest(await readRange(volumeEngine.snapshotDataPath(pool, "s1"), 0, MiB))).toBe(digest(original));
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "snapsrc"), 0, MiB))).not.toBe(digest(original));
    // Read-only: nothing can change a snapshot.
    await expect(writeRange(volumeEngine.snapshotDataPath(pool, "s1"), 0, Buffer.from("x"))).rejects.toThrow(/EROFS|read-only/i);
    expect((await volumeEngine.listOnDisk(pool)).snapshots).toContain("s1");
  });

  it("makes volumes from a volume and from a snapshot that are independent both ways", async () => {
    const a = randomBytes(MiB);
    await volumeEngine.createVolume(pool, "origin", 16 * MiB, true, "none");
    await writeRange(volumeEngine.volumeDataPath(pool, "origin"), 0, a);
    await volumeEngine.createSnapshot(pool, "origin", "origin-s");
    await volumeEngine.volumeFromVolume(pool, "origin", "clone");
    await volumeEngine.volumeFromSnapshot(pool, "origin-s", "fromsnap");
    for (const copy of ["clone", "fromsnap"]) {
      expect(digest(await readRange(volumeEngine.volumeDataPath(pool, copy), 0, MiB))).toBe(digest(a));
      expect((await stat(volumeEngine.volumeDataPath(pool, copy))).size).toBe(16 * MiB);
    }

    const b = randomBytes(MiB);
    await writeRange(volumeEngine.volumeDataPath(pool, "origin"), 0, b);
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "clone"), 0, MiB))).toBe(digest(a));
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "fromsnap"), 0, MiB))).toBe(digest(a));

    const c = randomBytes(MiB);
    await writeRange(volumeEngine.volumeDataPath(pool, "clone"), 0, c);
    await writeRange(volumeEngine.volumeDataPath(pool, "fromsnap"), MiB, c);
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "origin"), 0, MiB))).toBe(digest(b));
    expect(digest(await readRange(volumeEngine.snapshotDataPath(pool, "origin-s"), 0, 2 * MiB))).toBe(digest(Buffer.concat([a, Buffer.alloc(MiB)])));

    // Deletes succeed in any order, and twice.
    await volumeEngine.deleteVolume(pool, "origin");
    await volumeEngine.deleteVolume(pool, "origin");
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "clone"), 0, MiB))).toBe(digest(c));
    await volumeEngine.deleteSnapshot(pool, "origin-s");
    await volumeEngine.deleteSnapshot(pool, "origin-s");
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "fromsnap"), 0, MiB))).toBe(digest(a));
    await volumeEngine.deleteVolume(pool, "clone");
    await volumeEngine.deleteVolume(pool, "fromsnap");
    const onDisk = await volumeEngine.listOnDisk(pool);
    expect(onDisk.volumes).not.toContain("origin");
    expect(onDisk.volumes).not.toContain("clone");
    expect(onDisk.snapshots).not.toContain("origin-s");
  });

  it("rolls back in place: same inode, an open handle sees the snapshot's data", async () => {
    const snapshotData = randomBytes(MiB);
    await volumeEngine.createVolume(pool, "rb", 8 * MiB, true, "none");
    const file = volumeEngine.volumeDataPath(pool, "rb");
    await writeRange(file, 0, snapshotData);
    await volumeEngine.createSnapshot(pool, "rb", "rb-s");
    await writeRange(file, 0, randomBytes(MiB));
    await writeRange(file, 4 * MiB, randomBytes(MiB));
    await volumeEngine.resizeVolume(pool, "rb", 12 * MiB, true);
    const inodeBefore = (await stat(file)).ino;

    const heldOpen = await open(file, "r");
    try {
      await volumeEngine.rollbackVolume(pool, "rb", "rb-s", "in-place");
      expect((await stat(file)).ino).toBe(inodeBefore);
      const seen = Buffer.alloc(MiB);
      await heldOpen.read(seen, 0, MiB, 0);
      expect(digest(seen)).toBe(digest(snapshotData));
      const tail = Buffer.alloc(MiB);
      await heldOpen.read(tail, 0, MiB, 4 * MiB);
      expect(digest(tail)).toBe(digest(Buffer.alloc(MiB)));
    } finally {
      await heldOpen.close();
    }
    // The volume keeps the size it grew to: an initiator never sees its disk shrink.
    expect((await stat(file)).size).toBe(12 * MiB);
    await expect(volumeEngine.rollbackVolume(pool, "rb", "no-such-snapshot", "in-place")).rejects.toBeInstanceOf(VolumeNotFoundError);
  });

  it("rolls back by swap: the snapshot's data under the volume's name, grown size kept, nothing left beside it", async () => {
    const snapshotData = randomBytes(MiB);
    await volumeEngine.createVolume(pool, "sw", 8 * MiB, true, "none");
    const file = volumeEngine.volumeDataPath(pool, "sw");
    await writeRange(file, 0, snapshotData);
    await volumeEngine.createSnapshot(pool, "sw", "sw-s");
    await writeRange(file, 0, randomBytes(MiB));
    await writeRange(file, 6 * MiB, randomBytes(MiB));
    await volumeEngine.resizeVolume(pool, "sw", 12 * MiB, true);
    const subvolumeBefore = await subvolumeIdOf(path.dirname(file));

    await volumeEngine.rollbackVolume(pool, "sw", "sw-s", "swap");
    // Not rewritten in place: another subvolume now holds the volume's name.
    expect(await subvolumeIdOf(path.dirname(file))).not.toBe(subvolumeBefore);
    expect(digest(await readRange(file, 0, MiB))).toBe(digest(snapshotData));
    expect(digest(await readRange(file, 6 * MiB, MiB))).toBe(digest(Buffer.alloc(MiB)));
    expect((await stat(file)).size).toBe(12 * MiB);
    expect(await volumeEngine.allocatedBytes(pool, "sw")).toBeLessThanOrEqual(2 * MiB);
    // The snapshot itself is untouched and can be rolled back to again.
    expect(digest(await readRange(volumeEngine.snapshotDataPath(pool, "sw-s"), 0, MiB))).toBe(digest(snapshotData));
    await writeRange(file, 0, randomBytes(MiB));
    await volumeEngine.rollbackVolume(pool, "sw", "sw-s", "swap");
    expect(digest(await readRange(file, 0, MiB))).toBe(digest(snapshotData));
    const onDisk = await volumeEngine.listOnDisk(pool);
    expect(onDisk.volumes.filter((name) => name.includes("sw"))).toEqual(["sw"]);
    await expect(volumeEngine.rollbackVolume(pool, "sw", "no-such-snapshot", "swap")).rejects.toBeInstanceOf(VolumeNotFoundError);
    expect(digest(await readRange(file, 0, MiB))).toBe(digest(snapshotData));
  });

  it("repairs a swap a crash cut short: undone between the renames, leftovers removed after", async () => {
    const before = randomBytes(MiB);
    await volumeEngine.createVolume(pool, "cut", 4 * MiB, true, "none");
    await writeRange(volumeEngine.volumeDataPath(pool, "cut"), 0, before);
    await volumeEngine.createSnapshot(pool, "cut", "cut-s");
    const volumes = path.join(engine.mountPoint(pool), "volumes");
    // The state after the first rename: the volume renamed aside, the staged copy not yet in place.
    await runCommand("btrfs", ["subvolume", "snapshot", path.join(engine.mountPoint(pool), "snapshots", "cut-s"), path.join(volumes, ".rollback-cut")]);
    await runCommand("mv", [path.join(volumes, "cut"), path.join(volumes, ".retired-cut")]);
    expect(existsSync(volumeEngine.volumeDataPath(pool, "cut"))).toBe(false);

    const repaired = await volumeEngine.repairInterruptedRollbacks(pool);
    expect(repaired).toEqual(expect.arrayContaining(["volume cut (rollback undone)", "volume cut (rollback leftover removed)"]));
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "cut"), 0, MiB))).toBe(digest(before));
    expect((await volumeEngine.listOnDisk(pool)).volumes.filter((name) => name.includes("cut"))).toEqual(["cut"]);

    // After both renames only the retired copy is left: it goes, the rolled-back volume stays.
    await runCommand("btrfs", ["subvolume", "snapshot", path.join(volumes, "cut"), path.join(volumes, ".retired-cut")]);
    await writeRange(path.join(volumes, ".retired-cut", "data"), 0, randomBytes(MiB));
    expect(await volumeEngine.repairInterruptedRollbacks(pool)).toEqual(["volume cut (rollback leftover removed)"]);
    expect(digest(await readRange(volumeEngine.volumeDataPath(pool, "cut"), 0, MiB))).toBe(digest(before));
    expect(await volumeEngine.repairInterruptedRollbacks(pool)).toEqual([]);
  });

  it("copies a volume into another pool keeping holes", async () => {
    const otherDevices = await engine.createPool("data2", "single", "none", [{ type: "image_file", size: 256 * MiB }]);
    livePools.set("data2", otherDevices);
    try {
      const payload = randomBytes(MiB);
      await volumeEngine.createVolume(pool, "travel", 64 * MiB, true, "none");
      await writeRange(volumeEngine.volumeDataPath(pool, "travel"), 8 * MiB, payload);
      await volumeEngine.copyAcrossPools({ poolId: pool, path: volumeEngine.volumeDataPath(pool, "travel") }, "data2", "arrived");
      const copy = volumeEngine.volumeDataPath("data2", "arrived");
      expect((await stat(copy)).size).toBe(64 * MiB);
      expect(digest(await readRange(copy, 8 * MiB, MiB))).toBe(digest(payload));
      expect(await volumeEngine.allocatedBytes("data2", "arrived")).toBeLessThanOrEqual(2 * MiB);
    } finally {
      await engine.destroyPool("data2", otherDevices);
      livePools.delete("data2");
    }
  });

  it("rejects ids that could leave the pool directory", () => {
    expect(() => volumeEngine.volumeDataPath(pool, "../x")).toThrow(InvalidPoolRequestError);
    expect(() => volumeEngine.snapshotDataPath(pool, "a/b")).toThrow(InvalidPoolRequestError);
  });
});
