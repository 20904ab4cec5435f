/**
 * Crash safety: SIGKILL of the server, then a restart on the same state dir, must bring every
 * export back with its data intact (written and read over iSCSI with qemu-io), and operations
 * the crash cut short end as Error events. A dead tgtd is noticed and replaced within 5 s.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventReply, VolumeReply } from "@prophetstor/dpl-provider/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const hex = (): string => randomUUID().replace(/-/g, "");
const initiator = "iqn.2025-01.org.opendpl.test:crash";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

function iscsiOpts(volumeId: string): string {
  const [host, port] = server.portal.split(":");
  return `driver=iscsi,transport=tcp,portal=${host}:${port},target=iqn.2025-01.org.opendpl:${volumeId},lun=1,initiator-name=${initiator}`;
}

async function qemuIo(volumeId: string, command: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync("qemu-io", ["--image-opts", "-c", command, iscsiOpts(volumeId)], { timeout: 60_000 });
  return stdout + stderr;
}

async function tgtdPid(): Promise<number> {
  const port = server.portal.split(":")[1] ?? "";
  const { stdout } = await execFileAsync("ss", ["-Hltnp", `sport = :${port}`], { timeout: 10_000 });
  const m = /"tgtd",pid=(\d+)/.exec(stdout);
  if (m?.[1] === undefined) throw new Error(`no tgtd listens on ${server.portal}: ${stdout}`);
  return Number(m[1]);
}

async function exportedVolume(): Promise<string> {
  const id = hex();
  const create = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
    headers: { prefer: "wait=60" },
    body: { metadata: { pool_uuid: server.poolId, total_capacity: 64 * MiB, properties: { thin_provision: true } } },
  });
  expect(create.status, create.text).toBe(201);
  const assign = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
    headers: { prefer: "wait=60" },
    body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: [initiator] } } },
  });
  expect(assign.status, assign.text).toBe(200);
  return id;
}

describe("kill -9 and restart", () => {
  it("brings exports back with the data written before the crash, and fails interrupted events", async () => {
    const volume = await exportedVolume();
    const written = await qemuIo(volume, "write -P 0xa5 0 1M");
    expect(written).toContain("wrote 1048576/1048576 bytes");

    // An operation in flight when the server dies...
    const inflight = hex();
    const started = await dplRequest(server, "PUT", `/v1/dpl_volume/${inflight}/`, {
      body: { metadata: { pool_uuid: server.poolId, total_capacity: 32 * MiB, properties: { thin_provision: false } } },
    });
    expect([201, 202]).toContain(started.status);
    const inflightEvent = (started.body as { metadata: { event_uuid: string } }).metadata.event_uuid;
    await server.kill();

    // ...and one that certainly was still running: recorded as a crash would leave it.
    const stuckEvent = hex();
    const db = new Database(join(server.stateDir, "metadata.db"));
    db.prepare("INSERT INTO events (id, object_type, object_id, operation, status, percent, started) VALUES (?, 'volume', ?, 'modify', 'Processing', 0, ?)")
      .run(stuckEvent, volume, Date.now());
    db.close();
    // Data no record owns (say, restored by hand): reported, never deleted.
    const stray = hex();
    const strayDir = join(server.stateDir, "pools", server.poolId, "volumes", stray);
    await execFileAsync("btrfs", ["subvolume", "create", strayDir], { timeout: 30_000 });

    await server.restart();

    const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`)).body);
    expect(reply.exports["Network/iSCSI"]?.[0]?.permissions).toEqual([{ [initiator]: 1 }]);
    const read = await qemuIo(volume, "read -P 0xa5 0 1M");
    expect(read).toContain("read 1048576/1048576 bytes");
    expect(read).not.toContain("Pattern verification failed");

    const stuck = EventReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/?event_uuid=${stuckEvent}`)).body);
    expect(stuck.completionStatus, JSON.stringify(stuck)).toBe("Error");
    expect(stuck.event.error_message).toBe("interrupted by server restart");

    // The in-flight create either finished before the kill or was undone: never half made.
    const poll = await dplRequest(server, "GET", `/v1/dpl_volume/${inflight}/?event_uuid=${inflightEvent}`);
    expect(poll.status).toBe(200);
    const status = EventReply.parse(poll.body).completionStatus;
    expect(["Complete", "Error"]).toContain(status);
    const get = await dplRequest(server, "GET", `/v1/dpl_volume/${inflight}/`);
    expect(get.status).toBe(status === "Complete" ? 200 : 404);

    const report = await dplRequest(server, "GET", "/v1/dpl_system/reconcile/");
    expect(report.status).toBe(200);
    const found = (report.body as { metadata: { report: { interruptedEvents: number; unowned: Array<{ poolId: string; volumes: string[] }> } } }).metadata.report;
    expect(found.interruptedEvents).toBeGreaterThanOrEqual(1);
    expect(found.unowned).toContainEqual(expect.objectContaining({ poolId: server.poolId, volumes: [stray] }));
    expect(existsSync(strayDir)).toBe(true);
    await execFileAsync("btrfs", ["subvolume", "delete", strayDir], { timeout: 30_000 });
  });

  it("restarts a dead tgtd and re-applies every export within 5 s", async () => {
    const volume = await exportedVolume();
    await qemuIo(volume, "write -P 0x3c 0 64k");
    const before = await tgtdPid();
    process.kill(before, "SIGKILL");
    // The server aims at 5 s (a 1 s watchdog, a start, every export re-applied by a dozen tgtadm
    // runs); 3 s more for a busy machine. A server that never notices fails either way.
    const deadline = Date.now() + 8000;
    let listed = "";
    while (Date.now() < deadline) {
      try {
        listed = (await execFileAsync("iscsi-ls", ["-s", "-i", initiator, `iscsi://${server.portal}`], { timeout: 5000 })).stdout;
        if (listed.includes(volume)) break;
      } catch {
        /* tgtd not back yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed).toContain(volume);
    expect(await tgtdPid()).not.toBe(before);
    expect(await qemuIo(volume, "read -P 0x3c 0 64k")).toContain("read 65536/65536 bytes");
  });
});
