/**
 * The data path behind the API, through tgtd and a real iSCSI initiator (qemu-io): rollback of
 * an exported volume serves the snapshot's data, an extend is visible to the initiator, CHAP is enforced, and
 * pool lifecycle with an over-subscription cap.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventReply, PoolReply, VolumeReply } from "@prophetstor/dpl-provider/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const hex = (): string => randomUUID().replace(/-/g, "");
const initiator = "iqn.2025-01.org.opendpl.test:data";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

async function putWait(path: string, body: unknown): Promise<{ status: number; body: unknown; text: string }> {
  return dplRequest(server, "PUT", path, { body, headers: { prefer: "wait=60" } });
}

async function exportedVolume(size: number, authentication?: unknown): Promise<string> {
  const id = hex();
  const create = await putWait(`/v1/dpl_volume/${id}/`, { metadata: { pool_uuid: server.poolId, total_capacity: size, properties: { thin_provision: true } } });
  expect(create.status, create.text).toBe(201);
  const assign = await putWait(`/v1/dpl_volume/${id}/`, {
    metadata: { export_operation: "assign" },
    exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: [initiator], ...(authentication === undefined ? {} : { authentication }) } },
  });
  expect(assign.status, assign.text).toBe(200);
  return id;
}

function imageOpts(volumeId: string, chap?: { user: string; password: string }): string {
  const chapOpts = chap === undefined ? "" : `,user=${chap.user},password=${chap.password}`;
  return `driver=iscsi,transport=tcp,portal=${server.portal},target=iqn.2025-01.org.opendpl:${volumeId},lun=1,initiator-name=${initiator}${chapOpts}`;
}

async function qemuIo(volumeId: string, command: string, chap?: { user: string; password: string }): Promise<string> {
  const { stdout, stderr } = await execFileAsync("qemu-io", ["--image-opts", "-c", command, imageOpts(volumeId, chap)], { timeout: 60_000 });
  return stdout + stderr;
}

describe("the server process", () => {
  it("runs with the V8 setting its memory figures are measured with (server/bin/dpl-server)", () => {
    const { pid } = JSON.parse(readFileSync(join(server.stateDir, "ready.json"), "utf8")) as { pid: number };
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain("--max-semi-space-size=4");
  });
});

describe("exported volumes", () => {
  it("rolls back while exported: the initiator reads the snapshot's data", async () => {
    const volume = await exportedVolume(64 * MiB);
    expect(await qemuIo(volume, "write -P 0x11 0 1M")).toContain("wrote 1048576/1048576");
    const snapshot = hex();
    expect((await putWait(`/v1/dpl_volume/${volume}/`, { snapshot })).status).toBe(201);
    expect(await qemuIo(volume, "write -P 0x22 0 1M")).toContain("wrote 1048576/1048576");
    const rollback = await putWait(`/v1/dpl_volume/${volume}/`, { copy: `/${volume}/cdmi_snapshots/${snapshot}` });
    expect(rollback.status, rollback.text).toBe(200);
    const read = await qemuIo(volume, "read -P 0x11 0 1M");
    expect(read).toContain("read 1048576/1048576");
    expect(read).not.toContain("Pattern verification failed");
  });

  it("extends while exported: the initiator sees the new size", async () => {
    const volume = await exportedVolume(32 * MiB);
    expect(await qemuIo(volume, "length")).toContain("32 MiB");
    const extend = await putWait(`/v1/dpl_volume/${volume}/`, { metadata: { total_capacity: 96 * MiB } });
    expect(extend.status, extend.text).toBe(200);
    expect(VolumeReply.parse(extend.body).metadata.total_capacity).toBe(96 * MiB);
    expect(await qemuIo(volume, "length")).toContain("96 MiB");
    expect(await qemuIo(volume, "write -P 0x33 95M 1M")).toContain("wrote 1048576/1048576");
  });

  it("enforces CHAP and never returns the secret", async () => {
    const secret = "s3cret-chap-01";
    const volume = await exportedVolume(16 * MiB, { chap: { username: "dpluser", secret } });
    const reply = await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`);
    expect(reply.text).not.toContain(secret);
    expect(VolumeReply.parse(reply.body).exports["Network/iSCSI"]?.[0]?.authentication).toEqual({ method: "CHAP", username: "dpluser" });
    expect(await qemuIo(volume, "read 0 4k", { user: "dpluser", password: secret })).toContain("read 4096/4096");
    await expect(qemuIo(volume, "read 0 4k", { user: "dpluser", password: "wrong-secret-00" })).rejects.toThrow();
    await expect(qemuIo(volume, "read 0 4k")).rejects.toThrow();
  });
});

describe("pools", () => {
  it("creates a pool with an over-subscription cap, refuses what it cannot hold, deletes only with force", async () => {
    const pool = hex();
    const create = await dplRequest(server, "PUT", `/v1/dpl_pool/${pool}/`, {
      body: { metadata: { display_name: `pool-${pool.slice(0, 6)}`, properties: { raid_level: "single", compression: "zstd", max_oversubscription: 1.5 }, devices: [{ type: "image_file", size: 512 * MiB }] } },
    });
    expect(create.status, create.text).toBe(202);
    const eventId = (create.body as { metadata: { event_uuid: string } }).metadata.event_uuid;
    const poll = await dplRequest(server, "GET", `/v1/dpl_pool/${pool}/?event_uuid=${eventId}`, { headers: { prefer: "wait=120" } });
    expect(poll.status).toBe(200);
    expect(EventReply.parse(poll.body).completionStatus, poll.text).toBe("Complete");
    const detail = PoolReply.parse(poll.body);
    expect(detail.metadata.properties).toEqual({ raid_level: "single", compression: "zstd" });
    expect(detail.metadata.max_oversubscription).toBe(1.5);
    const total = detail.metadata.total_capacity;

    const volume = hex();
    const fits = await putWait(`/v1/dpl_volume/${volume}/`, { metadata: { pool_uuid: pool, total_capacity: Math.floor(total / MiB) * MiB, properties: { thin_provision: true } } });
    expect(fits.status, fits.text).toBe(201);
    const over = await putWait(`/v1/dpl_volume/${hex()}/`, { metadata: { pool_uuid: pool, total_capacity: Math.floor((total * 0.6) / MiB) * MiB, properties: { thin_provision: true } } });
    expect(over.status, over.text).toBe(422);
    expect(over.body).toMatchObject({ error: { code: "INSUFFICIENT_CAPACITY", field: "metadata.total_capacity" } });
    const thick = await putWait(`/v1/dpl_volume/${hex()}/`, { metadata: { pool_uuid: pool, total_capacity: Math.floor(total / MiB) * MiB, properties: { thin_provision: false } } });
    expect(thick.status, thick.text).toBe(422);

    const busy = await dplRequest(server, "DELETE", `/v1/dpl_pool/${pool}/`);
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: { code: "BUSY" } });
    const forced = await dplRequest(server, "DELETE", `/v1/dpl_pool/${pool}/`, { body: { metadata: { force: true } }, headers: { prefer: "wait=120" } });
    expect(forced.status, forced.text).toBe(200);
    expect((await dplRequest(server, "GET", `/v1/dpl_pool/${pool}/`)).status).toBe(404);
    expect((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`)).status).toBe(404);
  });
});
