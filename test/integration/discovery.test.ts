/**
 * Discovery against the real server and the kernel's sysfs: an allow-listed loop device is
 * reported with its size and the pool that takes it, through REST, the provider's lookups
 * (getDisks, getServerInfo) and `dpl disks`.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { lookupDisks, lookupServerInfo } from "../../provider/src/resources/lookups";
import { toHexId } from "../../provider/src/wire";
import { runDplCli } from "../support/dpl-cli";
import type { RunningServer } from "../support/dpl-server";
import { startHookTestServer, type HookTestServer } from "../support/hook-environment";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const DISK_BYTES = 256 * MiB;

let scratch: string;
let disk: string;
let server: RunningServer;
let client: DplClient;
let hooksServer: HookTestServer | undefined;

beforeAll(async () => {
  scratch = mkdtempSync(join(resolve(__dirname, "..", "..", ".work"), "discovery-"));
  const file = join(scratch, "disk.img");
  await execFileAsync("truncate", ["-s", String(DISK_BYTES), file]);
  disk = (await execFileAsync("losetup", ["--find", "--show", file])).stdout.trim();
  hooksServer = await startHookTestServer({ embeddedPoolSize: "512MiB", extraArgs: ["--allow-block-device", disk] });
  ({ server, client } = hooksServer);
});
afterAll(async () => {
  await hooksServer?.stop();
  await execFileAsync("losetup", ["-d", disk]).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

describe("discovery on the real kernel", () => {
  it("reports the allow-listed device free, then held by the pool made on it", async () => {
    expect(await lookupDisks()).toEqual([{ path: disk, sizeBytes: DISK_BYTES, rotational: expect.any(Boolean) as unknown, poolId: undefined }]);
    const listed = await runDplCli(server, ["--json", "disks", "--unused"]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ path: disk, size_bytes: DISK_BYTES, pool_uuid: null })]);

    const pool = toHexId(randomUUID());
    await client.createPool(pool, { name: "on-the-loop", devices: [{ type: "block_device", path: disk }] });
    expect(await lookupDisks()).toEqual([expect.objectContaining({ path: disk, poolId: pool })]);
    expect(await lookupDisks({ unusedOnly: true })).toEqual([]);
    await client.deletePool(pool);
    expect(await lookupDisks({ unusedOnly: true })).toEqual([expect.objectContaining({ path: disk })]);
  });

  it("tells what the server is and can do", async () => {
    expect(await lookupServerInfo()).toMatchObject({
      iscsiPortals: [server.portal], protocols: ["iscsi"], fibreChannel: false,
      cacheModes: ["writeback", "writethrough", "direct"], raidLevels: expect.arrayContaining(["single", "raid1"]) as unknown,
    });
  });
});
