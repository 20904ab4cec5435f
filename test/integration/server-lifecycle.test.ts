/**
 * Jobs on one volume never interleave (concurrent requests all succeed, in order), different
 * volumes proceed together, a graceful restart keeps everything, and create latency is measured.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventReply, SnapshotListReply, VolumeReply } from "@prophetstor/dpl-provider/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const hex = (): string => randomUUID().replace(/-/g, "");
const initiator = "iqn.2025-01.org.opendpl.test:lifecycle";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

async function waitEvent(volume: string, eventId: string): Promise<string> {
  const poll = await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/?event_uuid=${eventId}`, { headers: { prefer: "wait=60" } });
  expect(poll.status, poll.text).toBe(200);
  return EventReply.parse(poll.body).completionStatus;
}

describe("jobs", () => {
  it("serialises concurrent operations on one volume; all of them succeed", async () => {
    const volume = hex();
    const create = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { metadata: { pool_uuid: server.poolId, total_capacity: 32 * MiB } } });
    expect(create.status).toBe(202);
    const snapshots = [hex(), hex(), hex()];
    // Sent without waiting for each other (arrival order is up to the network): each is admitted
    // only after the previous one on this volume finished, so none sees a half-done state.
    const replies = await Promise.all([
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { snapshot: snapshots[0] } }),
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { metadata: { total_capacity: 64 * MiB } } }),
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { snapshot: snapshots[1] } }),
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [initiator] } } } }),
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { metadata: { display_name: "renamed" } } }),
      dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { snapshot: snapshots[2] } }),
    ]);
    for (const reply of replies) {
      expect(reply.status, reply.text).toBe(202);
      expect(await waitEvent(volume, (reply.body as { metadata: { event_uuid: string } }).metadata.event_uuid)).toBe("Complete");
    }
    const final = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`)).body);
    expect(final.metadata.total_capacity).toBe(64 * MiB);
    expect(final.metadata.display_name).toBe("renamed");
    expect(final.exports["Network/iSCSI"]).toHaveLength(1);
    const list = SnapshotListReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/cdmi_snapshots/`)).body);
    expect(list.children.map(([id]) => id).sort()).toEqual([...snapshots].sort());
  });

  it("creates volumes quickly (latency through HTTP with Prefer: wait)", async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${hex()}/`, {
        headers: { prefer: "wait=30" }, body: { metadata: { pool_uuid: server.poolId, total_capacity: 64 * MiB } },
      });
      latencies.push(performance.now() - started);
      expect(res.status).toBe(201);
    }
    latencies.sort((a, b) => a - b);
    console.log(`volume create latency (HTTPS, Prefer: wait): p50 ${latencies[4]?.toFixed(1)} ms, max ${latencies[9]?.toFixed(1)} ms`);
    expect(latencies[4]).toBeLessThan(2000);
  });
});

describe("deletes in any order", () => {
  it("deletes a snapshot with copies and a volume with clones; the copies and clones live on", async () => {
    const put = (id: string, body: unknown) => dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, { headers: { prefer: "wait=30" }, body });
    const source = hex();
    const snapshot = hex();
    const copy = hex();
    const clone = hex();
    expect((await put(source, { metadata: { pool_uuid: server.poolId, total_capacity: 16 * MiB } })).status).toBe(201);
    expect((await put(source, { snapshot })).status).toBe(201);
    expect((await put(copy, { metadata: { snapshot_operation: "copy", pool_uuid: server.poolId }, copy: `/${copy}/cdmi_snapshots/${snapshot}` })).status).toBe(201);
    expect((await put(clone, { metadata: { snapshot_operation: "clone" }, copy: source })).status).toBe(201);
    const del = (path: string) => dplRequest(server, "DELETE", path, { headers: { prefer: "wait=30" }, body: { metadata: { force: true } } });
    expect((await del(`/v1/dpl_volume/${source}/cdmi_snapshots/${snapshot}/`)).status).toBe(200);
    expect((await del(`/v1/dpl_volume/${source}/`)).status).toBe(200);
    for (const id of [copy, clone]) {
      const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${id}/`)).body);
      expect(reply.completionStatus).toBe("Complete");
      expect((await put(id, { snapshot: hex() })).status).toBe(201);
    }
  });
});

describe("graceful restart", () => {
  it("keeps volumes, snapshots and exports, and stops leaving nothing mounted", async () => {
    const volume = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { headers: { prefer: "wait=30" }, body: { metadata: { pool_uuid: server.poolId, total_capacity: 16 * MiB } } });
    expect(res.status).toBe(201);
    const assign = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      headers: { prefer: "wait=30" }, body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [initiator] } } },
    });
    expect(assign.status).toBe(200);
    const opts = `driver=iscsi,transport=tcp,portal=${server.portal},target=iqn.2025-01.org.opendpl:${volume},lun=1,initiator-name=${initiator}`;
    await execFileAsync("qemu-io", ["--image-opts", "-c", "write -P 0x5a 0 256k", opts], { timeout: 60_000 });

    await server.restart();
    const { stdout } = await execFileAsync("qemu-io", ["--image-opts", "-c", "read -P 0x5a 0 256k", opts], { timeout: 60_000 });
    expect(stdout).toContain("read 262144/262144");
    expect(stdout).not.toContain("Pattern verification failed");
    const report = await dplRequest(server, "GET", "/v1/dpl_system/reconcile/");
    expect((report.body as { metadata: { report: { interruptedEvents: number; unowned: unknown[] } } }).metadata.report).toMatchObject({ interruptedEvents: 0, unowned: [] });
  });
});

describe("--insecure-http", () => {
  it("serves plain HTTP only when asked, still behind Basic auth", async () => {
    const plain = await startServer({ extraArgs: ["--insecure-http"], embeddedPoolSize: "512MiB" });
    try {
      expect(plain.url).toMatch(/^http:\/\//);
      expect(plain.caPem).toBe("");
      expect((await dplRequest(plain, "GET", "/v1/dpl_system/")).status).toBe(200);
      expect((await dplRequest(plain, "GET", "/v1/dpl_system/", { auth: null })).status).toBe(401);
    } finally {
      await plain.stop();
    }
  });
});
