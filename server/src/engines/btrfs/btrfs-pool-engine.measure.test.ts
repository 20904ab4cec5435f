/**
 * Timings of the btrfs engine's heavy-looking operations on a 10 GiB volume. Opt-in (it writes
 * over 1 GiB): DPL_ENGINE_MEASURE=1 npx vitest run --project unit server/src/engines/btrfs/btrfs-pool-engine.measure.test.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PoolDeviceRecord } from "../../core/ports";
import { runCommand } from "../command";
import { BtrfsPoolEngine } from "./btrfs-pool-engine";
import { BtrfsVolumeEngine } from "./btrfs-volume-engine";

const GiB = 2 ** 30;
const workRoot = path.resolve(__dirname, "../../../../.work");

async function timed(label: string, operation: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await operation();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${label}: ${ms.toFixed(1)} ms`);
  return ms;
}

async function extents(file: string): Promise<string> {
  const { stdout } = await runCommand("filefrag", [file]);
  return stdout.trim();
}

describe.skipIf(!process.env.DPL_ENGINE_MEASURE)("btrfs engine timings (10 GiB volume, 1 GiB of random data)", () => {
  let stateDir: string;
  let engine: BtrfsPoolEngine;
  let volumeEngine: BtrfsVolumeEngine;
  let devices: PoolDeviceRecord[] = [];
  const pool = "measure";

  beforeAll(async () => {
    await runCommand("mkdir", ["-p", workRoot]);
    stateDir = await mkdtemp(path.join(workRoot, "btrfs-measure-"));
    engine = new BtrfsPoolEngine({ stateDir });
    volumeEngine = new BtrfsVolumeEngine({ stateDir });
    devices = await engine.createPool(pool, "single", "none", [{ type: "image_file", size: 40 * GiB }]);
  }, 120_000);

  afterAll(async () => {
    await engine.destroyPool(pool, devices);
    await rm(stateDir, { recursive: true, force: true });
  }, 300_000);

  it("measures snapshot, clone, rollback and thick create", async () => {
    await volumeEngine.createVolume(pool, "v", 10 * GiB, true, "none");
    const data = volumeEngine.volumeDataPath(pool, "v");
    await runCommand("dd", ["if=/dev/urandom", `of=${data}`, "bs=4M", "count=256", "conv=notrunc,fsync", "status=none"], { timeoutMs: 300_000 });
    console.log(`sequentially written: ${await extents(data)}`);
    await timed("createSnapshot", () => volumeEngine.createSnapshot(pool, "v", "s1"));
    await timed("volumeFromVolume", () => volumeEngine.volumeFromVolume(pool, "v", "c1"));
    await runCommand("dd", ["if=/dev/urandom", `of=${data}`, "bs=4M", "count=64", "conv=notrunc,fsync", "status=none"], { timeoutMs: 300_000 });
    await timed("rollbackVolume (few extents)", () => volumeEngine.rollbackVolume(pool, "v", "s1", "in-place"));

    // A volume after many small random writes holds many extents: what reflink cost follows.
    await runCommand(
      "fio",
      ["--name=frag", `--filename=${data}`, "--rw=randwrite", "--bs=4k", "--size=1g", "--io_size=200m", "--direct=1", "--randrepeat=0", "--output=/dev/null"],
      { timeoutMs: 600_000 },
    );
    await runCommand("sync", []);
    console.log(`after random 4 KiB writes: ${await extents(data)}`);
    await timed("createSnapshot (fragmented)", () => volumeEngine.createSnapshot(pool, "v", "s2"));
    await timed("volumeFromVolume (fragmented)", () => volumeEngine.volumeFromVolume(pool, "v", "c2"));
    await timed("rollbackVolume (fragmented snapshot)", () => volumeEngine.rollbackVolume(pool, "v", "s2", "in-place"));

    const thick = await timed("createVolume thick 10 GiB", () => volumeEngine.createVolume(pool, "thick", 10 * GiB, false, "none"));
    expect(await volumeEngine.allocatedBytes(pool, "thick")).toBe(10 * GiB);
    expect(thick).toBeGreaterThan(0);
    await timed("deleteVolume (10 GiB thin, snapshots kept)", () => volumeEngine.deleteVolume(pool, "v"));
  }, 900_000);
});
