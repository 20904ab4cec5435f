/**
 * Pool settings in place on the real server (metadata.pool_settings), and a volume's compression
 * (metadata.properties.compression on its modify): what is refused, with the
 * field named and nothing changed, and that a compression change is a remount the next start
 * keeps.
 */
import { randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "../../provider/src/client";
import { ErrorBody, toHexId } from "../../provider/src/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
let server: RunningServer;
let client: DplClient;
let poolId: string;
const newId = (): string => toHexId(randomUUID());

beforeAll(async () => {
  server = await startServer({ embeddedPoolSize: "512MiB" });
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  poolId = newId();
  await client.createPool(poolId, { name: "settings", devices: [{ type: "image_file", size: 512 * MiB }] });
});
afterAll(async () => {
  await client.close();
  await server.stop();
});

async function putSettings(id: string, settings: unknown): Promise<{ status: number; field: string | undefined; message: string }> {
  const res = await dplRequest(server, "PUT", `/v1/dpl_pool/${id}/`, { body: { metadata: { pool_settings: settings } }, headers: { prefer: "wait=30" } });
  const error = ErrorBody.safeParse(res.body);
  return { status: res.status, field: error.success ? error.data.error.field ?? undefined : undefined, message: error.success ? error.data.error.message : res.text };
}

describe("pool settings", () => {
  it("refuses a name another pool has, naming the field, and changes nothing", async () => {
    const other = newId();
    await client.createPool(other, { name: "taken", devices: [{ type: "image_file", size: 256 * MiB }] });
    const refused = await putSettings(poolId, { display_name: "taken", display_description: "not applied" });
    expect(refused).toMatchObject({ status: 409, field: "metadata.pool_settings.display_name" });
    expect((await client.getPool(poolId))?.metadata).toMatchObject({ display_name: "settings", display_description: null });
    await client.deletePool(other);
  });

  it("refuses a cap below what is already provisioned, naming the field", async () => {
    // 1,200 MiB of thin volumes on a pool of under 512 MiB.
    const volumes = [newId(), newId(), newId()];
    for (const [i, id] of volumes.entries()) await client.createVolume(id, { poolId, sizeBytes: 400 * MiB, name: `thin-${i}` });
    const refused = await putSettings(poolId, { max_oversubscription: 1 });
    expect(refused).toMatchObject({ status: 422, field: "metadata.pool_settings.max_oversubscription" });
    expect((await client.getPool(poolId))?.metadata.max_oversubscription).toBeNull();
    // A cap that holds what is provisioned is taken; it then limits new thin volumes.
    expect((await client.changePoolSettings(poolId, { max_oversubscription: 3 })).metadata.max_oversubscription).toBe(3);
    const over = await dplRequest(server, "PUT", `/v1/dpl_volume/${newId()}/`, { body: { metadata: { pool_uuid: poolId, total_capacity: 400 * MiB } }, headers: { prefer: "wait=30" } });
    expect(over.status).toBe(422);
    for (const id of volumes) await client.deleteVolume(id);
  });

  it("refuses an empty or unknown setting as a 400 naming it", async () => {
    expect((await putSettings(poolId, {})).status).toBe(400);
    const unknown = await putSettings(poolId, { stripe_width: 4 });
    expect(unknown.status).toBe(400);
    expect(unknown.message).toMatch(/stripe_width/);
    expect((await putSettings(newId(), { display_name: "x" })).status).toBe(404);
  });

  it("sets a volume's compression in place on its data file, and resets it to the pool's with none", async () => {
    const volume = newId();
    await client.createVolume(volume, { poolId, sizeBytes: 64 * MiB, name: "compressed-later" });
    const dataFile = join(server.stateDir, "pools", poolId, "volumes", volume, "data");
    const property = async (): Promise<string> => (await execFileAsync("btrfs", ["property", "get", dataFile, "compression"])).stdout.trim();
    expect(await property()).toBe("");
    expect((await client.modifyVolume(volume, { compression: "lzo" })).metadata.properties.compression).toBe("lzo");
    expect(await property()).toBe("compression=lzo");
    expect((await client.modifyVolume(volume, { compression: "none" })).metadata.properties.compression).toBe("none");
    expect(await property()).toBe("");
    await client.deleteVolume(volume);
  });

  it("re-compresses by remount, and the next start mounts with the recorded compression", async () => {
    expect((await client.changePoolSettings(poolId, { compression: "zstd:3", display_description: "compressed" })).metadata)
      .toMatchObject({ properties: { compression: "zstd:3" }, display_description: "compressed" });
    await server.restart();
    expect((await client.getPool(poolId))?.metadata.properties.compression).toBe("zstd:3");
    const mount = readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[1]?.endsWith(`/pools/${poolId}`));
    expect(mount).toMatch(/compress=zstd:3/);
  });
});
