/**
 * Security edge: the host filesystem under the state directory is small (a 1 GiB ext4 mounted
 * for this file) and holds the server's metadata.db and the sparse image files of its pools.
 * Pools whose image files the host could not hold full, and thick volumes whose blocks would not
 * fit beside what the other pools may still take, are refused with a 4xx naming the size field,
 * before anything is made; a floor (--host-free-floor) stays free for the metadata.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { clientFor, MiB } from "../reliability/test-client";

const FLOOR = 64 * MiB;
const hostDir = mkdtempSync(join(resolve(__dirname, "../../.work"), "host-fs-"));
const hostImage = `${hostDir}.img`;
const filler = join(hostDir, "filler");

let server: RunningServer | undefined;
let client: DplClient;
let seq = 0;
const newId = (): string => `d5${(++seq).toString(16).padStart(30, "0")}`;

function hostAvailable(): number {
  const stats = statfsSync(hostDir);
  return stats.bavail * stats.bsize;
}

/** Takes host space with a file of `bytes` allocated blocks (what another program on the host might do). */
function fillHost(bytes: number): void {
  closeSync(openSync(filler, "w"));
  execFileSync("fallocate", ["-l", String(bytes), filler]);
}

beforeAll(async () => {
  execFileSync("truncate", ["-s", "1G", hostImage]);
  execFileSync("mkfs.ext4", ["-q", "-F", "-m", "0", hostImage]);
  execFileSync("mount", ["-o", "loop", hostImage, hostDir]);
  const stateDir = join(hostDir, "state");
  mkdirSync(stateDir, { mode: 0o700 });
  server = await startServer({ stateDir, embeddedPoolSize: "256MiB", extraArgs: ["--host-free-floor", "64MiB"] });
  client = clientFor(server);
});
afterAll(async () => {
  await client.close();
  await server?.stop();
  execFileSync("umount", [hostDir]);
  rmSync(hostDir, { recursive: true, force: true });
  rmSync(hostImage, { force: true });
});

function poolImageDirs(): string[] {
  const root = join(hostDir, "state", "images");
  return existsSync(root) ? readdirSync(root) : [];
}

describe("a small host filesystem", () => {
  it("refuses a pool whose image file it could not hold full, and a device add as well, making nothing", async () => {
    const poolId = newId();
    // The embedded pool's image file may still take nearly 256 MiB: 800 MiB more does not fit in 1 GiB.
    const tooBig = client.createPool(poolId, { name: "too-big", devices: [{ type: "image_file", size: 800 * MiB }] });
    await expect(tooBig).rejects.toMatchObject({ code: "INSUFFICIENT_CAPACITY", field: "metadata.devices.0.size" });
    await expect(tooBig).rejects.toThrow(/do not fit on the server's filesystem/);
    expect(await client.getPool(poolId)).toBeUndefined();
    expect(poolImageDirs()).not.toContain(poolId);

    const grow = client.changePoolDevices(server?.poolId ?? "", { device_operation: "add", devices: [{ type: "image_file", size: 800 * MiB }] });
    await expect(grow).rejects.toMatchObject({ code: "INSUFFICIENT_CAPACITY", field: "metadata.devices.0.size" });
    expect((await client.getPool(server?.poolId ?? ""))?.metadata.devices).toHaveLength(1);

    // What fits is made: the check refuses only what the host cannot hold.
    const fits = newId();
    await client.createPool(fits, { name: "fits", devices: [{ type: "image_file", size: 384 * MiB }] });
    await client.deletePool(fits);
  });

  it("refuses a thick volume whose blocks the host no longer has room for, keeping the floor; thin ones still work", async () => {
    const poolId = server?.poolId ?? "";
    // Another program takes the host's space down to 160 MiB: the floor keeps 64 of them.
    fillHost(hostAvailable() - 160 * MiB);
    try {
      const thick = newId();
      const refused = client.createVolume(thick, { poolId, sizeBytes: 128 * MiB, thin: false });
      await expect(refused).rejects.toMatchObject({ code: "INSUFFICIENT_CAPACITY", field: "metadata.total_capacity" });
      await expect(refused).rejects.toThrow(/does not fit on the server's filesystem/);
      expect(await client.getVolume(thick)).toBeUndefined();

      // Growing a thin volume into a thick one is the same allocation, refused the same way.
      const thin = newId();
      await client.createVolume(thin, { poolId, sizeBytes: 128 * MiB, thin: true });
      await expect(client.modifyVolume(thin, { thin: false })).rejects.toMatchObject({ code: "INSUFFICIENT_CAPACITY", field: "metadata.properties.thin_provision" });
      const small = newId();
      await client.createVolume(small, { poolId, sizeBytes: 16 * MiB, thin: false });
      expect(hostAvailable()).toBeGreaterThan(FLOOR);
      await client.deleteVolume(small);
      await client.deleteVolume(thin);
    } finally {
      rmSync(filler, { force: true });
    }
    // Once the host has room again, the same thick volume is made.
    const later = newId();
    await client.createVolume(later, { poolId, sizeBytes: 128 * MiB, thin: false });
    await client.deleteVolume(later);
  });
});
