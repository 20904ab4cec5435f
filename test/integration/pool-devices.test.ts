/**
 * Pool devices changed in place on the real server (btrfs over loop devices): add, remove and
 * replace keep the pool and the data an initiator wrote through iSCSI; requests the pool could
 * not survive are refused with a 4xx naming the field; raid5/raid6 need force_raid56. Then
 * self-heal: a raid1 pool whose device lost its superblock while the server was down comes back
 * mounted degraded and reports Degraded, and a replace through the API makes it Online again
 * with the data intact.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, type IscsiConnection } from "../../provider/src/client";
import { toHexId, type PoolReply } from "../../provider/src/wire";
import { runDplCli } from "../support/dpl-cli";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { lunMatchesFile, writeFileToLun } from "./client-iscsi-io";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const DATA_BYTES = 48 * MiB;
const HOST = "iqn.2024-01.org.example.pool-devices:host1";

let server: RunningServer;
let client: DplClient;
let scratch: string;
let dataFile: string;
const teardown: Array<() => Promise<void>> = [];
const newId = (): string => toHexId(randomUUID());

beforeAll(async () => {
  const workDir = resolve(__dirname, "..", "..", ".work");
  mkdirSync(workDir, { recursive: true });
  scratch = mkdtempSync(join(workDir, "pool-devices-"));
  teardown.push(() => {
    rmSync(scratch, { recursive: true, force: true });
    return Promise.resolve();
  });
  dataFile = join(scratch, "data.raw");
  writeFileSync(dataFile, randomBytes(DATA_BYTES));
  server = await startServer({ embeddedPoolSize: "512MiB" });
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  teardown.push(() => client.close());
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

async function mirroredPool(name: string, imageBytes: number): Promise<string> {
  const poolId = newId();
  await client.createPool(poolId, {
    name, raidLevel: "raid1", devices: [{ type: "image_file", size: imageBytes }, { type: "image_file", size: imageBytes }],
  });
  return poolId;
}

/** A volume in the pool, exported, holding the test data written through iSCSI. */
async function volumeWithData(poolId: string): Promise<IscsiConnection> {
  const id = newId();
  await client.createVolume(id, { poolId, sizeBytes: 128 * MiB, name: `dev-${id.slice(0, 6)}` });
  const { connections } = await client.assignIscsi(id, { initiators: [HOST] });
  const [connection] = connections;
  if (connection === undefined) throw new Error("no connection info");
  await writeFileToLun(dataFile, connection);
  return connection;
}

function deviceIds(pool: PoolReply): string[] {
  return pool.metadata.devices.map((d) => d.device_uuid);
}

/** Image files on disk and loop devices attached for the pool: exactly its recorded devices. */
async function expectNoOrphans(poolId: string): Promise<void> {
  const pool = await client.getPool(poolId);
  const recorded = (pool?.metadata.devices ?? []).filter((d) => d.type === "image_file").map((d) => d.path).sort();
  const imageDir = join(server.stateDir, "images", poolId);
  const onDisk = existsSync(imageDir) ? readdirSync(imageDir).map((name) => join(imageDir, name)).sort() : [];
  expect(onDisk).toEqual(recorded);
  const { stdout } = await execFileAsync("losetup", ["--list", "--noheadings", "--output", "BACK-FILE"]);
  const attached = stdout.split("\n").map((line) => line.trim()).filter((file) => file.startsWith(imageDir + "/")).sort();
  expect(attached).toEqual(recorded);
}

async function refusal(poolId: string, metadata: Record<string, unknown>): Promise<{ status: number; code?: string; field?: string }> {
  const reply = await dplRequest(server, "PUT", `/v1/dpl_pool/${poolId}/`, { body: { metadata } });
  const error = (reply.body as { error?: { code: string; field?: string } } | undefined)?.error;
  return { status: reply.status, code: error?.code, field: error?.field };
}

describe("pool devices in place", () => {
  it("adds, removes and replaces devices of a raid1 pool while its volume keeps its data", async () => {
    // Sparse images; roomy enough that btrfs's replace finds space for its read-only chunk copies.
    const poolId = await mirroredPool("grow-shrink", 512 * MiB);
    const connection = await volumeWithData(poolId);
    const created = await client.getPool(poolId);
    if (created === undefined) throw new Error("pool vanished");
    const [first, second] = deviceIds(created);
    if (first === undefined || second === undefined) throw new Error("expected two devices");

    const added = await client.changePoolDevices(poolId, { device_operation: "add", devices: [{ type: "image_file", size: 512 * MiB }] });
    expect(added.metadata.devices).toHaveLength(3);
    expect(added.metadata.devices.every((d) => d.state === "Online")).toBe(true);
    expect(added.metadata.total_capacity).toBeGreaterThan(created.metadata.total_capacity);
    await expectNoOrphans(poolId);

    const removed = await client.changePoolDevices(poolId, { device_operation: "remove", device_uuids: [first] });
    expect(deviceIds(removed)).not.toContain(first);
    expect(removed.metadata.devices).toHaveLength(2);
    await expectNoOrphans(poolId);
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);

    const replaced = await client.changePoolDevices(poolId, { device_operation: "replace", device_uuid: second, device: { type: "image_file", size: 768 * MiB } });
    const ids = deviceIds(replaced);
    expect(ids).not.toContain(second);
    expect(ids).toHaveLength(2);
    expect(replaced.metadata.devices.map((d) => d.size).sort()).toEqual([512 * MiB, 768 * MiB]);
    expect(replaced.metadata.state).toBe("Online");
    await expectNoOrphans(poolId);
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);
    const scrubbed = await client.runPoolOperation(poolId, "scrub");
    expect(scrubbed.metadata.last_scrub?.errors_found).toBe(0);
  });

  it("refuses what the pool could not survive, naming the field, and changes nothing", async () => {
    const poolId = await mirroredPool("refusals", 256 * MiB);
    const before = await client.getPool(poolId);
    const [first, second] = before === undefined ? [] : deviceIds(before);
    if (first === undefined || second === undefined) throw new Error("expected two devices");

    expect(await refusal(poolId, { device_operation: "remove", device_uuids: [first] }))
      .toEqual({ status: 400, code: "INVALID_ARGUMENT", field: "metadata.device_uuids" });
    expect(await refusal(poolId, { device_operation: "remove", device_uuids: ["0".repeat(32)] }))
      .toEqual({ status: 404, code: "NOT_FOUND", field: "metadata.device_uuids.0" });
    expect(await refusal(poolId, { device_operation: "replace", device_uuid: first, device: { type: "image_file", size: 128 * MiB } }))
      .toEqual({ status: 400, code: "INVALID_ARGUMENT", field: "metadata.device.size" });
    expect(await refusal(poolId, { device_operation: "add", devices: [{ type: "block_device", path: "/dev/sdz" }] }))
      .toEqual({ status: 400, code: "INVALID_ARGUMENT", field: "metadata.devices.0.path" });
    expect((await refusal(poolId, { device_operation: "add", devices: [] })).status).toBe(400);
    expect((await refusal(poolId, { device_operation: "shrink" })).status).toBe(400);
    expect((await refusal(newId(), { device_operation: "add", devices: [{ type: "image_file", size: 256 * MiB }] })).status).toBe(404);

    // A single-profile pool of two devices holding more than one device can take.
    const fullId = newId();
    await client.createPool(fullId, { name: "too-full", devices: [{ type: "image_file", size: 256 * MiB }, { type: "image_file", size: 256 * MiB }] });
    await client.createVolume(newId(), { poolId: fullId, sizeBytes: 300 * MiB, thin: false, name: "thick" });
    const full = await client.getPool(fullId);
    const [fullFirst] = full === undefined ? [] : deviceIds(full);
    expect(await refusal(fullId, { device_operation: "remove", device_uuids: [fullFirst] }))
      .toEqual({ status: 422, code: "INSUFFICIENT_CAPACITY", field: "metadata.device_uuids" });

    // A replace btrfs itself fails (no room left for the copy) leaves no new image or loop behind.
    const failed = await client.changePoolDevices(fullId, { device_operation: "replace", device_uuid: fullFirst ?? "", device: { type: "image_file", size: 512 * MiB } })
      .then(() => "replaced", (error: unknown) => String(error));
    expect(failed).toMatch(/INSUFFICIENT_CAPACITY|ENGINE_FAILURE/);
    expect(full === undefined ? [] : deviceIds(full)).toEqual(deviceIds((await client.getPool(fullId)) ?? ({} as PoolReply)));

    expect(deviceIds((await client.getPool(poolId)) ?? before ?? ({} as PoolReply))).toEqual([first, second]);
    await expectNoOrphans(poolId);
    await expectNoOrphans(fullId);
    await client.deletePool(fullId, { force: true });
  });

  it("makes raid5 and raid6 pools only with force_raid56", async () => {
    const devices = [128, 128, 128].map(() => ({ type: "image_file", size: 128 * MiB }));
    for (const raid of ["raid5", "raid6"]) {
      const poolId = newId();
      const refused = await dplRequest(server, "PUT", `/v1/dpl_pool/${poolId}/`, {
        body: { metadata: { display_name: `${raid}-refused`, properties: { raid_level: raid }, devices } },
      });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "metadata.properties.force_raid56" } });
      expect(await client.getPool(poolId)).toBeUndefined();

      const pool = await client.createPool(poolId, {
        name: `${raid}-forced`, raidLevel: raid as "raid5" | "raid6", forceRaid56: true, devices: devices.map((d) => ({ type: "image_file" as const, size: d.size })),
      });
      expect(pool.metadata.properties.raid_level).toBe(raid);
      expect(pool.metadata.state).toBe("Online");
      await client.deletePool(poolId);
    }
    const system = await client.system();
    expect(system.metadata.capabilities.raid_levels).toEqual(expect.arrayContaining(["raid5", "raid6"]));
  });
});

/** Runs the built `dpl` command; resolves with its output and exit status (never rejects on a non-zero one). */
async function dpl(args: string[]): Promise<{ stdout: string; stderr: string; status: number }> {
  const run = await runDplCli(server, args);
  return { ...run, status: run.status ?? -1 };
}

describe("block devices on the allow-list", () => {
  it("adds one, replaces it by another, refuses one already in a pool, and removes it", async () => {
    // Loop devices stand in for disks: to the server they are block devices like any other.
    const disks: string[] = [];
    const blockServer = await (async () => {
      for (const name of ["disk-a", "disk-b"]) {
        const file = join(scratch, `${name}.raw`);
        await execFileAsync("truncate", ["-s", String(640 * MiB), file]);
        disks.push((await execFileAsync("losetup", ["--find", "--show", file])).stdout.trim());
      }
      return startServer({ embeddedPoolSize: "512MiB", extraArgs: ["--allow-block-device", ...disks] });
    })().catch(async (error: unknown) => {
      for (const disk of disks) await execFileAsync("losetup", ["-d", disk]).catch(() => undefined);
      throw error;
    });
    const [diskA, diskB] = disks as [string, string];
    const blockClient = new DplClient({ endpoint: blockServer.url, password: blockServer.password, ca: blockServer.caPem });
    try {
      const poolId = newId();
      await blockClient.createPool(poolId, { name: "disks", raidLevel: "raid1", devices: [{ type: "image_file", size: 512 * MiB }, { type: "image_file", size: 512 * MiB }] });
      const added = await blockClient.changePoolDevices(poolId, { device_operation: "add", devices: [{ type: "block_device", path: diskA }] });
      const diskDevice = added.metadata.devices.find((d) => d.path === diskA);
      expect(diskDevice).toMatchObject({ type: "block_device", size: 640 * MiB, state: "Online" });

      const twice = await dplRequest(blockServer, "PUT", `/v1/dpl_pool/${poolId}/`, { body: { metadata: { device_operation: "add", devices: [{ type: "block_device", path: diskA }] } } });
      expect(twice.status).toBe(409);
      expect(twice.body).toMatchObject({ error: { code: "CONFLICT", field: "metadata.devices.0.path" } });

      const replaced = await blockClient.changePoolDevices(poolId, { device_operation: "replace", device_uuid: diskDevice?.device_uuid ?? "", device: { type: "block_device", path: diskB } });
      expect(replaced.metadata.devices.map((d) => d.path)).toContain(diskB);
      expect(replaced.metadata.devices.map((d) => d.path)).not.toContain(diskA);
      expect(replaced.metadata.state).toBe("Online");

      const onB = replaced.metadata.devices.find((d) => d.path === diskB)?.device_uuid ?? "";
      const removed = await blockClient.changePoolDevices(poolId, { device_operation: "remove", device_uuids: [onB] });
      expect(removed.metadata.devices.map((d) => d.path)).not.toContain(diskB);
      // btrfs wiped the superblocks of both disks it gave back: each could make a new pool.
      for (const disk of disks) {
        const { stdout } = await execFileAsync("blkid", ["-p", "-o", "value", "-s", "TYPE", disk]).catch(() => ({ stdout: "" }));
        expect(stdout.trim()).toBe("");
      }
      await blockClient.deletePool(poolId);
    } finally {
      await blockClient.close();
      await blockServer.stop();
      for (const disk of disks) await execFileAsync("losetup", ["-d", disk]).catch(() => undefined);
    }
  });
});

describe("pool devices through the dpl command", () => {
  it("lists, adds and removes devices; a bad size is refused naming the option", async () => {
    const poolId = await mirroredPool("cli", 512 * MiB);
    const listed = await dpl(["--json", "pool", "devices", poolId]);
    expect(listed.status).toBe(0);
    const devices = (JSON.parse(listed.stdout) as { state: string; devices: Array<{ device_uuid: string; errors: Record<string, number> }> });
    expect(devices.state).toBe("Online");
    expect(devices.devices).toHaveLength(2);
    expect(devices.devices[0]?.errors).toEqual({ read: 0, write: 0, flush: 0, corruption: 0, generation: 0 });

    const added = await dpl(["--json", "pool", "add-device", poolId, "--size-gib", "0.5"]);
    expect(added.status).toBe(0);
    const after = JSON.parse(added.stdout) as { devices: Array<{ device_uuid: string }> };
    expect(after.devices).toHaveLength(3);
    const newest = after.devices[2]?.device_uuid ?? "";
    const removed = await dpl(["pool", "remove-device", poolId, newest]);
    expect(removed.status).toBe(0);
    expect(removed.stdout).not.toContain(newest);
    await expectNoOrphans(poolId);

    const tooSmall = await dpl(["pool", "add-device", poolId, "--size-gib", "0.01"]);
    expect(tooSmall.status).toBe(1);
    expect(tooSmall.stderr).toMatch(/--size-gib: must be at least 128 MiB/);
    const tooFew = await dpl(["pool", "remove-device", poolId, devices.devices[0]?.device_uuid ?? ""]);
    expect(tooFew.status).toBe(1);
    expect(tooFew.stderr).toMatch(/raid1 needs at least 2 working devices/);
  });
});

describe("self-heal of a mirrored pool", () => {
  it("mounts degraded when a device lost its superblock, reports it, and a replace brings it back Online", async () => {
    const poolId = await mirroredPool("self-heal", 256 * MiB);
    const connection = await volumeWithData(poolId);
    const healthy = await client.getPool(poolId);
    const broken = healthy?.metadata.devices[1];
    if (broken === undefined) throw new Error("expected two devices");

    // The disk "fails" while the server is down: its superblock (64 KiB in) is zeroed.
    await server.restart(async () => {
      const image = await open(broken.path, "r+");
      try {
        await image.write(Buffer.alloc(4096), 0, 4096, 64 * 1024);
      } finally {
        await image.close();
      }
    });

    const degraded = await client.getPool(poolId);
    expect(degraded?.metadata.state).toBe("Degraded");
    expect(degraded?.metadata.devices.find((d) => d.device_uuid === broken.device_uuid)?.state).toBe("Missing");
    const mounts = await execFileAsync("findmnt", ["--noheadings", "--output", "OPTIONS", join(server.stateDir, "pools", poolId)]);
    expect(mounts.stdout).toContain("degraded");
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);

    const healed = await client.changePoolDevices(poolId, { device_operation: "replace", device_uuid: broken.device_uuid, device: { type: "image_file", size: 256 * MiB } });
    expect(healed.metadata.state).toBe("Online");
    expect(healed.metadata.devices.every((d) => d.state === "Online")).toBe(true);
    expect(deviceIds(healed)).not.toContain(broken.device_uuid);
    expect(existsSync(broken.path)).toBe(false);
    await expectNoOrphans(poolId);
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);

    // Every copy is good again (a scrub reads both mirrors), and a plain restart mounts it whole.
    const scrubbed = await client.runPoolOperation(poolId, "scrub");
    expect(scrubbed.metadata.last_scrub?.errors_found).toBe(0);
    await server.restart();
    const restarted = await client.getPool(poolId);
    expect(restarted?.metadata.state).toBe("Online");
    const remount = await execFileAsync("findmnt", ["--noheadings", "--output", "OPTIONS", join(server.stateDir, "pools", poolId)]);
    expect(remount.stdout).not.toContain("degraded");
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);
  });
});

describe("device changes a crash cut short", () => {
  /** Mounts the pool's images outside the server (which is stopped), runs `change`, unmounts. */
  async function behindTheServer(poolId: string, change: (mountPoint: string) => Promise<void>): Promise<void> {
    const imageDir = join(server.stateDir, "images", poolId);
    const loops: string[] = [];
    const mountPoint = mkdtempSync(join(scratch, "mnt-"));
    try {
      for (const name of readdirSync(imageDir)) {
        const { stdout } = await execFileAsync("losetup", ["--find", "--show", join(imageDir, name)]);
        loops.push(stdout.trim());
      }
      const [first] = loops;
      await execFileAsync("mount", ["-t", "btrfs", "-o", loops.map((loop) => `device=${loop}`).join(","), first ?? "", mountPoint]);
      try {
        await change(mountPoint);
      } finally {
        await execFileAsync("umount", [mountPoint]);
      }
    } finally {
      for (const loop of await currentLoops(imageDir)) await execFileAsync("losetup", ["-d", loop]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  }

  async function currentLoops(imageDir: string): Promise<string[]> {
    const { stdout } = await execFileAsync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"]);
    return stdout.split("\n").map((line) => line.trim().split(/\s+/)).filter(([, file]) => file?.startsWith(imageDir + "/") === true).map(([loop]) => loop ?? "");
  }

  it("adopts a device btrfs got but the records did not, drops one btrfs removed, deletes images btrfs never saw", async () => {
    const poolId = await mirroredPool("crash-cut", 512 * MiB);
    const connection = await volumeWithData(poolId);
    const imageDir = join(server.stateDir, "images", poolId);
    const addedImage = join(imageDir, `${newId()}.img`);
    const strayImage = join(imageDir, `${newId()}.img`);

    // The crash came after `btrfs device add` of one image and before the record; another image
    // was made but never reached btrfs.
    await server.restart(() => behindTheServer(poolId, async (mountPoint) => {
      await execFileAsync("truncate", ["-s", String(512 * MiB), addedImage, strayImage]);
      const { stdout } = await execFileAsync("losetup", ["--find", "--show", addedImage]);
      await execFileAsync("btrfs", ["device", "add", "--nodiscard", stdout.trim(), mountPoint]);
    }));
    const adopted = await client.getPool(poolId);
    expect(adopted?.metadata.devices.map((d) => d.path)).toContain(addedImage);
    expect(adopted?.metadata.devices).toHaveLength(3);
    expect(adopted?.metadata.state).toBe("Online");
    expect(existsSync(strayImage)).toBe(false);
    await expectNoOrphans(poolId);
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);

    // The crash came after `btrfs device remove` and before the record.
    await server.restart(() => behindTheServer(poolId, async (mountPoint) => {
      const { stdout } = await execFileAsync("losetup", ["--list", "--noheadings", "--output", "NAME", "--associated", addedImage]);
      await execFileAsync("btrfs", ["device", "remove", stdout.trim(), mountPoint]);
    }));
    const dropped = await client.getPool(poolId);
    expect(dropped?.metadata.devices).toHaveLength(2);
    expect(dropped?.metadata.devices.map((d) => d.path)).not.toContain(addedImage);
    expect(dropped?.metadata.state).toBe("Online");
    expect(existsSync(addedImage)).toBe(false);
    await expectNoOrphans(poolId);
    expect(await lunMatchesFile(dataFile, connection, DATA_BYTES)).toBe(true);
  });
});

