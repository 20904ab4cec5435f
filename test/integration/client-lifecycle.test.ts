/**
 * The DPL client against the real server (btrfs + tgtd): every call goes over HTTPS with the
 * server's own certificate verified, and data is checked through iSCSI with libiscsi.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthenticationError, DplClient, DplRequestError, type IscsiConnection } from "../../provider/src/client";
import { toHexId } from "../../provider/src/wire";
import { startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, writePattern } from "./client-iscsi-io";

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const HOST = "iqn.2024-01.org.example.client-test:host1";

let server: RunningServer;
let client: DplClient;
const volumesToDelete: string[] = [];
/** Undo steps registered as things start, run in reverse even when beforeAll failed half-way. */
const teardown: Array<() => Promise<void>> = [];

const newId = (): string => toHexId(randomUUID());

beforeAll(async () => {
  server = await startServer();
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ...(server.caPem === "" ? {} : { ca: server.caPem }) });
  teardown.push(async () => {
    for (const id of volumesToDelete) await client.deleteVolume(id).catch(() => undefined);
    await client.close();
  });
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

async function newVolume(sizeBytes = GiB): Promise<string> {
  const id = newId();
  volumesToDelete.push(id);
  await client.createVolume(id, { poolId: server.poolId, sizeBytes, name: `client-test-${id.slice(0, 6)}` });
  return id;
}

async function exportToHost(volumeId: string): Promise<IscsiConnection> {
  const { connections } = await client.assignIscsi(volumeId, { initiators: [HOST] });
  const [connection] = connections;
  if (connection === undefined) throw new Error("no connection info");
  return connection;
}

describe("system and pools", () => {
  it("reads the system and the embedded pool", async () => {
    const system = await client.system();
    expect(system.metadata.capabilities.snapshots).toBe(true);
    const pools = await client.listPools();
    expect(pools.map((p) => p.id)).toContain(server.poolId);
    const pool = await client.getPool(server.poolId);
    expect(pool?.metadata.total_capacity).toBeGreaterThan(0);
    expect(await client.getPool(newId())).toBeUndefined();
  });

  it("maps wrong credentials to AuthenticationError without the password", async () => {
    const wrong = new DplClient({ endpoint: server.url, password: "wrong-password-123", ...(server.caPem === "" ? {} : { ca: server.caPem }) });
    try {
      const err: unknown = await wrong.system().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as Error).message).toContain(`DPL server at ${new URL(server.url).origin} rejected the credentials for user "admin"`);
      expect((err as Error).message).not.toContain("wrong-password-123");
    } finally {
      await wrong.close();
    }
  });
});

describe("volume lifecycle", () => {
  it("creates, lists, extends, renames, refuses a shrink naming total_capacity, and deletes idempotently", async () => {
    const id = newId();
    const created = await client.createVolume(id, { poolId: server.poolId, sizeBytes: GiB, name: "lifecycle" });
    expect(created.metadata).toMatchObject({ total_capacity: GiB, state: "available", pool_uuid: server.poolId, display_name: "lifecycle" });
    expect(created.metadata.properties.thin_provision).toBe(true);
    expect((await client.listVolumes()).map((v) => v.id)).toContain(id);

    const extended = await client.extendVolume(id, 2 * GiB);
    expect(extended.metadata.total_capacity).toBe(2 * GiB);

    const renamed = await client.renameVolume(id, "lifecycle-renamed", "now with a description");
    expect(renamed.metadata.display_name).toBe("lifecycle-renamed");
    expect(renamed.metadata.display_description).toBe("now with a description");

    const err: unknown = await client.extendVolume(id, GiB).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DplRequestError);
    expect((err as DplRequestError).status).toBeGreaterThanOrEqual(400);
    expect((err as DplRequestError).status).toBeLessThan(500);
    expect((err as DplRequestError).field ?? (err as Error).message).toMatch(/total_capacity/);
    expect((err as Error).message).toMatch(new RegExp(`^extend volume ${id}: [A-Z_]+: `));
    expect((await client.getVolume(id))?.metadata.total_capacity).toBe(2 * GiB);

    await client.deleteVolume(id);
    expect(await client.getVolume(id)).toBeUndefined();
    await expect(client.deleteVolume(id)).resolves.toBeUndefined();
  });
});

describe("iSCSI export", () => {
  it("assigns with target IQN, portal and LUN a host can use, and unassigns idempotently", async () => {
    const id = await newVolume(64 * MiB);
    const connection = await exportToHost(id);
    expect(connection.targetIqn).toMatch(/^iqn\./);
    expect(connection.portal).toBe(server.portal);
    expect(connection.lun).toBeGreaterThanOrEqual(1);
    await writePattern(connection, 0x5a, 0, MiB);
    expect(await holdsPattern(connection, 0x5a, 0, MiB)).toBe(true);

    await client.unassignIscsi(id, [HOST]);
    const after = await client.getVolume(id);
    const granted = (after?.exports["Network/iSCSI"] ?? []).flatMap((e) => e.permissions.flatMap((p) => Object.keys(p)));
    expect(granted).not.toContain(HOST);
    await expect(client.unassignIscsi(id, [HOST])).resolves.toBeUndefined();
    await expect(holdsPattern(connection, 0x5a, 0, MiB)).rejects.toThrow();
  });
});

describe("snapshots, copies, clones and rollback", () => {
  it("keeps each object's data where it belongs", async () => {
    const source = await newVolume(256 * MiB);
    const sourceLun = await exportToHost(source);
    await writePattern(sourceLun, 0xaa, 0, 4 * MiB);

    const snapId = newId();
    const snapshot = await client.createSnapshot(source, snapId, { name: "before-change", description: "pattern 0xaa" });
    expect(snapshot.metadata).toMatchObject({ snapshot_uuid: snapId, origin_uuid: source, display_name: "before-change", total_capacity: 256 * MiB });
    expect((await client.listSnapshots(source)).map((s) => s.id)).toContain(snapId);
    expect((await client.getSnapshot(source, snapId))?.metadata.state).toBe("available");

    await writePattern(sourceLun, 0xbb, 0, 4 * MiB);

    const copyId = newId();
    volumesToDelete.push(copyId);
    const copy = await client.copyFromSnapshot(copyId, source, snapId, { name: "copy" });
    expect(copy.metadata.total_capacity).toBe(256 * MiB);
    expect(copy.metadata.origin_uuid).toBe(snapId);
    expect(await holdsPattern(await exportToHost(copyId), 0xaa, 0, 4 * MiB)).toBe(true);

    const largerId = newId();
    volumesToDelete.push(largerId);
    const larger = await client.copyFromSnapshot(largerId, source, snapId, { sizeBytes: 512 * MiB });
    expect(larger.metadata.total_capacity).toBe(512 * MiB);
    const largerLun = await exportToHost(largerId);
    expect(await holdsPattern(largerLun, 0xaa, 0, 4 * MiB)).toBe(true);
    expect(await holdsPattern(largerLun, 0x00, 300 * MiB, MiB)).toBe(true);

    const cloneId = newId();
    volumesToDelete.push(cloneId);
    const clone = await client.cloneVolume(cloneId, source, { name: "clone" });
    expect(clone.metadata.total_capacity).toBe(256 * MiB);
    expect(await holdsPattern(await exportToHost(cloneId), 0xbb, 0, 4 * MiB)).toBe(true);

    const rolledBack = await client.rollbackVolume(source, snapId);
    expect(rolledBack.objectID).toBe(source);
    expect(await holdsPattern(sourceLun, 0xaa, 0, 4 * MiB)).toBe(true);
    // The clone is independent of its source's rollback.
    expect(await holdsPattern(await exportToHost(cloneId), 0xbb, 0, 4 * MiB)).toBe(true);

    await client.deleteSnapshot(source, snapId);
    expect(await client.getSnapshot(source, snapId)).toBeUndefined();
    await expect(client.deleteSnapshot(source, snapId)).resolves.toBeUndefined();
    // Copies outlive the snapshot they came from.
    expect(await holdsPattern(await exportToHost(copyId), 0xaa, 0, 4 * MiB)).toBe(true);
  });
});

describe("spawn, volume groups and targets", () => {
  it("spawns a volume from a snapshot", async () => {
    const source = await newVolume(64 * MiB);
    await writePattern(await exportToHost(source), 0x3c, 0, MiB);
    const snapId = newId();
    await client.createSnapshot(source, snapId);
    const spawnId = newId();
    volumesToDelete.push(spawnId);
    const spawned = await client.spawnFromSnapshot(spawnId, source, snapId, { name: "spawned" });
    expect(spawned.metadata).toMatchObject({ display_name: "spawned", total_capacity: 64 * MiB, origin_uuid: snapId });
    expect(await holdsPattern(await exportToHost(spawnId), 0x3c, 0, MiB)).toBe(true);
  });

  it("groups volumes, takes a group snapshot whose members copy out, and deletes idempotently", async () => {
    const a = await newVolume(64 * MiB);
    const b = await newVolume(64 * MiB);
    await writePattern(await exportToHost(a), 0x11, 0, MiB);
    const groupId = newId();
    const group = await client.createVolumeGroup(groupId, { name: "pair", maximumSnapshot: 8 });
    expect(group.metadata.volume_group_uuid).toBe(groupId);
    const joined = await client.joinVolumeGroup(groupId, [a, b]);
    expect([...joined.children].sort()).toEqual([a, b].sort());

    const groupSnapId = newId();
    const groupSnap = await client.createGroupSnapshot(groupId, groupSnapId, { name: "pair-snap" });
    expect(Object.keys(groupSnap.metadata.member).sort()).toEqual([a, b].sort());
    expect((await client.getGroupSnapshot(groupId, groupSnapId))?.metadata.snapshot_uuid).toBe(groupSnapId);

    const memberSnap = groupSnap.metadata.member[a];
    if (memberSnap === undefined) throw new Error("no member snapshot for a");
    const fromMember = newId();
    volumesToDelete.push(fromMember);
    await client.copyFromSnapshot(fromMember, a, memberSnap);
    expect(await holdsPattern(await exportToHost(fromMember), 0x11, 0, MiB)).toBe(true);

    const left = await client.leaveVolumeGroup(groupId, [b]);
    expect(left.children).toEqual([a]);
    await client.deleteGroupSnapshot(groupId, groupSnapId);
    expect(await client.getGroupSnapshot(groupId, groupSnapId)).toBeUndefined();
    await expect(client.deleteGroupSnapshot(groupId, groupSnapId)).resolves.toBeUndefined();
    await client.leaveVolumeGroup(groupId, [a]);
    await client.deleteVolumeGroup(groupId);
    expect(await client.getVolumeGroup(groupId)).toBeUndefined();
    await expect(client.deleteVolumeGroup(groupId)).resolves.toBeUndefined();
  });

  it("creates, lists, reads and deletes a target", async () => {
    const id = newId();
    const target = await client.createTarget(id, { protocol: "iscsi", name: "spare-target" });
    expect(target.metadata).toMatchObject({ target_uuid: id, protocol: "iscsi" });
    expect(target.metadata.address).toMatch(/^iqn\./);
    expect((await client.listTargets("target")).map((t) => t.id)).toContain(id);
    expect((await client.getTarget(id))?.metadata.display_name).toBe("spare-target");
    await client.deleteTarget(id);
    expect(await client.getTarget(id)).toBeUndefined();
    await expect(client.deleteTarget(id)).resolves.toBeUndefined();
  });
});
