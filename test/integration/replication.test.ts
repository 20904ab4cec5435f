/**
 * Replication between two real servers on this machine (two state dirs, two pools, two ports):
 * data written through iSCSI on the source reads back identical on the promoted replica; the
 * second sync is incremental; a reverse makes the old source the target, which catches up with
 * what was written on the promoted side; a sync cut short by killing the sender resumes after
 * its restart without resending a byte that arrived; a volume group's members arrive at one point
 * in time, as a group.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { ReplicationReply, TransferReply } from "../../provider/src/wire";
import { runDplCli } from "../support/dpl-cli";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, writePattern } from "../support/iscsi-initiator";
import { clientFor, MiB } from "../reliability/test-client";

const HOST = "iqn.2025-01.org.opendpl.test:replication-host";
let a: RunningServer;
let b: RunningServer;
let clientA: DplClient;
let clientB: DplClient;

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  clientA = clientFor(a);
  clientB = clientFor(b);
}, 120_000);
afterAll(async () => {
  await Promise.all([clientA.close(), clientB.close()]);
  await Promise.all([a.stop(), b.stop()]);
});

const peerOf = (server: RunningServer) => ({ url: server.url, username: server.username, password: server.password, ca_certificate: server.caPem });

async function replication(server: RunningServer, id: string): Promise<ReplicationReply["metadata"]> {
  const res = await dplRequest(server, "GET", `/v1/dpl_replication/${id}/`);
  expect(res.status, res.text).toBe(200);
  return ReplicationReply.parse(res.body).metadata;
}

async function operate(server: RunningServer, id: string, metadata: object): Promise<void> {
  const res = await dplRequest(server, "PUT", `/v1/dpl_replication/${id}/`, { body: { metadata }, headers: { prefer: "wait=300" } });
  expect(res.status, res.text).toBe(200);
}

async function exportTo(client: DplClient, volumeId: string) {
  const { connections } = await client.assignIscsi(volumeId, { initiators: [HOST] });
  const [connection] = connections;
  if (connection === undefined) throw new Error("no connection info");
  return connection;
}

describe("replication of a volume", () => {
  const volume = "a1100000000000000000000000000001";
  const rel = "a1100000000000000000000000000002";

  it("syncs incrementally, promotes a replica with the source's data, and fails back by reversing", async () => {
    await clientA.createVolume(volume, { poolId: a.poolId, sizeBytes: 64 * MiB });
    const onA = await exportTo(clientA, volume);
    await writePattern(onA, 0xab, 0, 8 * MiB);
    const created = await dplRequest(a, "PUT", `/v1/dpl_replication/${rel}/`, {
      body: { metadata: { source_volume: volume, target: peerOf(b), target_pool_uuid: b.poolId } },
    });
    expect(created.status, created.text).toBe(201);

    await operate(a, rel, { replication_operation: "sync" });
    const first = await replication(a, rel);
    expect(first).toMatchObject({ role: "source", state: "idle", last_error: null, transfer: null });
    expect(first.last_sync_bytes).toBeGreaterThan(8 * MiB);

    await writePattern(onA, 0xcd, 16 * MiB, 4 * MiB);
    await operate(a, rel, { replication_operation: "sync" });
    const second = await replication(a, rel);
    expect(second.last_synced_snapshot).not.toBe(first.last_synced_snapshot);
    expect(second.last_sync_bytes).toBeLessThanOrEqual(8 * MiB);

    // The replica is read-only until promoted.
    expect(await replication(b, rel)).toMatchObject({ role: "target", state: "replica", last_synced_snapshot: second.last_synced_snapshot });
    await expect(clientB.assignIscsi(volume, { initiators: [HOST] })).rejects.toThrow(/read-only until promoted/);

    await operate(b, rel, { replication_operation: "promote" });
    const onB = await exportTo(clientB, volume);
    expect(await holdsPattern(onB, 0xab, 0, 8 * MiB)).toBe(true);
    expect(await holdsPattern(onB, 0xcd, 16 * MiB, 4 * MiB)).toBe(true);

    // Failback: written on the promoted side, caught up by the old source after the reverse.
    await writePattern(onB, 0xef, 40 * MiB, 4 * MiB);
    await clientA.unassignIscsi(volume, [HOST]);
    await operate(b, rel, { replication_operation: "reverse", peer: peerOf(a) });
    const reversed = await replication(b, rel);
    expect(reversed).toMatchObject({ role: "source", last_error: null });
    expect(reversed.last_sync_bytes).toBeLessThanOrEqual(8 * MiB);
    expect(await replication(a, rel)).toMatchObject({ role: "target", state: "replica" });
    await operate(a, rel, { replication_operation: "promote" });
    const back = await exportTo(clientA, volume);
    expect(await holdsPattern(back, 0xef, 40 * MiB, 4 * MiB)).toBe(true);
    expect(await holdsPattern(back, 0xcd, 16 * MiB, 4 * MiB)).toBe(true);
    await clientA.unassignIscsi(volume, [HOST]);
    await clientB.unassignIscsi(volume, [HOST]);
  }, 300_000);
});

describe("a sync cut short", () => {
  const volume = "a1200000000000000000000000000001";
  const rel = "a1200000000000000000000000000002";

  it("resumes after the sender was killed, sending only what had not arrived", async () => {
    await clientA.createVolume(volume, { poolId: a.poolId, sizeBytes: 128 * MiB });
    const onA = await exportTo(clientA, volume);
    await writePattern(onA, 0x5c, 0, 96 * MiB);
    await clientA.unassignIscsi(volume, [HOST]);
    const created = await dplRequest(a, "PUT", `/v1/dpl_replication/${rel}/`, {
      body: { metadata: { source_volume: volume, target: peerOf(b), target_pool_uuid: b.poolId, rate_limit_bytes_per_second: 16 * MiB } },
    });
    expect(created.status, created.text).toBe(201);
    const started = await dplRequest(a, "PUT", `/v1/dpl_replication/${rel}/`, { body: { metadata: { replication_operation: "sync" } } });
    expect(started.status, started.text).toBe(202);

    let transfer: ReplicationReply["metadata"]["transfer"] = null;
    const held = async (): Promise<number> => {
      if (transfer === null) return 0;
      const res = await dplRequest(b, "GET", `/v1/dpl_replication/${rel}/transfers/${transfer.snapshot}/`);
      return TransferReply.parse(res.body).received_bytes;
    };
    for (let i = 0; i < 600 && (transfer === null || await held() < 16 * MiB); i++) {
      transfer = (await replication(a, rel)).transfer;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (transfer === null) throw new Error("the sync never wrote its stream");
    await a.kill();
    // What was still on its way in the target's socket lands within moments of the kill.
    let arrived = await held();
    for (let settled = false; !settled;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = await held();
      settled = now === arrived;
      arrived = now;
    }
    expect(arrived).toBeGreaterThan(0);
    expect(arrived).toBeLessThan(transfer.bytes);

    await a.restart();
    let now = await replication(a, rel);
    for (let i = 0; i < 600 && now.last_synced_snapshot !== transfer.snapshot; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      now = await replication(a, rel);
    }
    expect(now).toMatchObject({ last_synced_snapshot: transfer.snapshot, last_error: null, transfer: null });
    // Exactly the rest of the stream went over after the restart.
    expect(now.last_sync_bytes).toBe(transfer.bytes - arrived);
    expect(await replication(b, rel)).toMatchObject({ last_synced_snapshot: transfer.snapshot });
    await operate(b, rel, { replication_operation: "promote" });
    const onB = await exportTo(clientB, volume);
    expect(await holdsPattern(onB, 0x5c, 0, 96 * MiB)).toBe(true);
    await clientB.unassignIscsi(volume, [HOST]);
  }, 300_000);
});

describe("replication of a volume group", () => {
  const members = ["a1300000000000000000000000000001", "a1300000000000000000000000000002"];
  const group = "a1300000000000000000000000000003";
  const rel = "a1300000000000000000000000000004";

  it("brings every member to the same point in time on the target, as a group the promote makes writable", async () => {
    for (const [i, volume] of members.entries()) {
      await clientA.createVolume(volume, { poolId: a.poolId, sizeBytes: 32 * MiB });
      const onA = await exportTo(clientA, volume);
      await writePattern(onA, 0x31 + i, 0, 4 * MiB);
    }
    await clientA.createVolumeGroup(group, { volumes: members });
    await clientA.createReplication(rel, { volumeGroup: group, target: peerOf(b), targetPool: b.poolId });
    const synced = await clientA.syncReplication(rel);
    expect(synced.metadata).toMatchObject({ volume: null, volume_group: group, last_error: null });
    // Written after the sync: neither replica may show it (they share the sync's instant).
    for (const volume of members) await writePattern(await exportTo(clientA, volume), 0x77, 0, 4 * MiB);
    const onB = await clientB.getReplication(rel);
    expect(onB?.metadata.volumes.map((v) => v.last_synced_snapshot)).toEqual(synced.metadata.volumes.map((v) => v.last_synced_snapshot));
    expect(new Set((await clientB.getVolumeGroup(group))?.children)).toEqual(new Set(members));
    await clientB.promoteReplication(rel);
    for (const [i, volume] of members.entries()) {
      const replica = await exportTo(clientB, volume);
      expect(await holdsPattern(replica, 0x31 + i, 0, 4 * MiB)).toBe(true);
      await clientB.unassignIscsi(volume, [HOST]);
      await clientA.unassignIscsi(volume, [HOST]);
    }
    await clientA.deleteReplication(rel);
    expect(await clientB.getReplication(rel)).toBeUndefined();
  }, 300_000);
});

describe("the dpl CLI", () => {
  const volume = "a1400000000000000000000000000001";
  const rel = "a1400000000000000000000000000002";

  it("creates, syncs, shows, promotes and deletes a replication, the peer's password from the environment only", async () => {
    await clientA.createVolume(volume, { poolId: a.poolId, sizeBytes: 16 * MiB });
    const peerArgs = ["--peer-url", b.url, "--peer-user", b.username];
    const withoutPassword = await runDplCli(a, ["replication", "create", rel, "--volume", volume, ...peerArgs, "--target-pool", b.poolId]);
    expect(withoutPassword.status).toBe(1);
    expect(withoutPassword.stderr).toMatch(/DPL_PEER_PASSWORD/);
    const scratch = mkdtempSync(join(tmpdir(), "dpl-cli-ca-"));
    const caFile = join(scratch, "b.pem");
    writeFileSync(caFile, b.caPem);
    const created = await runDplCli(a, ["replication", "create", rel, "--volume", volume, ...peerArgs, "--peer-ca-file", caFile, "--target-pool", b.poolId, "--rpo", "1h"],
      { DPL_PEER_PASSWORD: b.password });
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/1h/);
    expect((await runDplCli(a, ["replication", "sync", rel])).status).toBe(0);
    const shown = await runDplCli(a, ["--json", "replication", "show", rel]);

    expect(JSON.parse(shown.stdout)).toMatchObject({ role: "source", state: "idle", volume, rpo_seconds: 3600, last_error: null });
    const listed = await runDplCli(b, ["--json", "replications"]);

    const onB = (JSON.parse(listed.stdout) as { replication_uuid: string }[]).find((r) => r.replication_uuid === rel);
    expect(onB).toMatchObject({ role: "target", state: "replica" });
    expect((await runDplCli(b, ["replication", "promote", rel])).stdout).toMatch(/promoted/);
    expect((await runDplCli(a, ["replication", "delete", rel])).status).toBe(0);
    expect(await clientB.getReplication(rel)).toBeUndefined();
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);
});
