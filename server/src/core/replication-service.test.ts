/**
 * Replication between two in-memory servers (no root): a volume group's members replicate at
 * one instant and are published together or not at all; a damaged stream is sent again and the
 * streams that arrived are not; a cut upload resumes where it stopped; the RPO schedule syncs
 * without being asked; a promoted group fails back by reverse; what a relationship holds cannot
 * change under it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, IN_MEMORY_CREDENTIALS, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const poolA = hexId(0xa1);
const poolB = hexId(0xb1);
const members = [hexId(0xa2), hexId(0xa3)];
const group = hexId(0xa4);
const rel = hexId(0xa5);

let a: InMemoryServer;
let b: InMemoryServer;

async function expectOk(reply: Promise<{ statusCode: number; body: string }>, status?: number): Promise<void> {
  const done = await reply;
  if (status === undefined) expect(done.statusCode, done.body).toBeLessThan(300);
  else expect(done.statusCode, done.body).toBe(status);
}

beforeEach(async () => {
  a = await startInMemoryServer({}, { replicationUrl: "https://a.in-memory" });
  b = await startInMemoryServer({}, { replicationUrl: "https://b.in-memory" });
  await expectOk(a.put(`/v1/dpl_pool/${poolA}/`, { metadata: poolCreateMetadata({ name: "a", devices: [{ type: "image_file", size: 4 * GiB }] }) }));
  await expectOk(b.put(`/v1/dpl_pool/${poolB}/`, { metadata: poolCreateMetadata({ name: "b", devices: [{ type: "image_file", size: 4 * GiB }] }) }));
  for (const volume of members) await expectOk(a.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: poolA, sizeBytes: 64 * MiB }) }));
  await expectOk(a.put(`/dpl_volgroup/${group}/`, { metadata: { volume: members } }));
});
afterEach(async () => {
  await a.close();
  await b.close();
});

const peer = (server: InMemoryServer) => ({ url: server.replication?.url ?? "", ...IN_MEMORY_CREDENTIALS });
const dataOf = (server: InMemoryServer, pool: string, volume: string) => server.disks.files.get(`/memory/pools/${pool}/volumes/${volume}/data`)?.content;
const write = (volume: string, content: string): void => {
  a.disks.file(`/memory/pools/${poolA}/volumes/${volume}/data`).content = content;
};

async function replicateGroup(extra: Record<string, unknown> = {}): Promise<void> {
  await expectOk(a.put(`/v1/dpl_replication/${rel}/`, { metadata: { source_volume_group: group, target: peer(b), target_pool_uuid: poolB, ...extra } }), 201);
}
const sync = (server: InMemoryServer) => server.put(`/v1/dpl_replication/${rel}/`, { metadata: { replication_operation: "sync" } });
async function shown(server: InMemoryServer): Promise<Record<string, unknown>> {
  const reply = await server.request({ method: "GET", url: `/v1/dpl_replication/${rel}/` });
  return reply.json<{ metadata: Record<string, unknown> }>().metadata;
}

describe("replication of a volume group", () => {
  it("sends every member at one instant; the target holds the replicas as a read-only group", async () => {
    write(members[0] ?? "", "one@1");
    write(members[1] ?? "", "two@1");
    await replicateGroup();
    await expectOk(sync(a));
    expect(members.map((v) => dataOf(b, poolB, v))).toEqual(["one@1", "two@1"]);
    const replicaGroup = await b.request({ method: "GET", url: `/dpl_volgroup/${group}/` });
    expect(replicaGroup.statusCode, replicaGroup.body).toBe(200);
    const source = await shown(a);
    expect(source).toMatchObject({ role: "source", state: "idle", volume: null, volume_group: group, last_synced_snapshot: null });
    const synced = source.volumes as { volume: string; last_synced_snapshot: string | null }[];
    expect(synced.map((v) => v.volume).sort()).toEqual([...members].sort());
    expect(synced.every((v) => v.last_synced_snapshot !== null)).toBe(true);
    expect(await shown(b)).toMatchObject({ role: "target", state: "replica", volume_group: group });
    // The replicas are read-only, and the group's membership is fixed while it is replicated.
    const extend = await b.put(`/v1/dpl_volume/${members[0] ?? ""}/`, { metadata: { total_capacity: 128 * MiB } });
    expect(extend.statusCode, extend.body).toBe(409);
    await expectOk(a.put(`/dpl_volgroup/${group}/`, { metadata: { volume_group_operation: "leave", volume: [members[0]] } }), 409);
    await expectOk(a.request({ method: "DELETE", url: `/dpl_volgroup/${group}/` }), 409);
    await expectOk(a.request({ method: "DELETE", url: `/v1/dpl_volume/${members[1] ?? ""}/`, headers: { prefer: "wait=30" } }), 409);
  });

  it("publishes all members or none: a damaged stream fails the sync, then only that stream is sent again", async () => {
    await replicateGroup();
    await expectOk(sync(a));
    write(members[0] ?? "", "one@2");
    write(members[1] ?? "", "two@2");
    const link = a.replication?.link;
    if (link === undefined) throw new Error("server a has no replication link");
    // The second member's stream is damaged on the way: its sha256 no longer matches.
    const pendingOf = async () => ((await shown(a)).volumes as { volume: string; transfer: { snapshot: string } | null }[]);
    link.cutNextUploadAfter = 0;
    await sync(a);
    const second = (await pendingOf()).find((v) => v.volume === members[1])?.transfer?.snapshot;
    expect(second).toBeDefined();
    link.damageUploadOf = second;
    link.uploads.length = 0;
    const failed = await sync(a);
    expect(failed.body).toMatch(/does not verify/);
    // Neither replica moved: the first member's stream verified, but is not published alone.
    expect(members.map((v) => dataOf(b, poolB, v))).toEqual(["", ""]);
    link.uploads.length = 0;
    await expectOk(sync(a));
    expect(members.map((v) => dataOf(b, poolB, v))).toEqual(["one@2", "two@2"]);
    // Only the damaged stream went again, whole; the first member's stream had arrived.
    expect(link.uploads.map((u) => [u.snapshotId, u.offset])).toEqual([[second, 0]]);
    expect(link.uploads[0]?.bytes).toBeGreaterThan(0);
  });

  it("resumes a cut upload at the byte where it stopped", async () => {
    await replicateGroup();
    const link = a.replication?.link;
    if (link === undefined) throw new Error("server a has no replication link");
    link.cutNextUploadAfter = 5;
    expect((await sync(a)).body).toMatch(/dropped after 5 bytes/);
    expect((await shown(a)).state).toBe("error");
    link.uploads.length = 0;
    await expectOk(sync(a));
    expect(link.uploads[0]).toMatchObject({ offset: 5 });
    expect((await shown(b)).total_bytes_sent).toBeGreaterThan(0);
  });

  it("fails over and back: the promoted group is written, reversed, and the old source catches up", async () => {
    write(members[0] ?? "", "one@1");
    await replicateGroup();
    await expectOk(sync(a));
    await expectOk(b.put(`/v1/dpl_replication/${rel}/`, { metadata: { replication_operation: "promote" } }));
    b.disks.file(`/memory/pools/${poolB}/volumes/${members[0] ?? ""}/data`).content = "one@failover";
    await expectOk(b.put(`/v1/dpl_replication/${rel}/`, { metadata: { replication_operation: "reverse", peer: peer(a) } }));
    expect(await shown(a)).toMatchObject({ role: "target", state: "replica" });
    expect(dataOf(a, poolA, members[0] ?? "")).toBe("one@failover");
    await expectOk(a.put(`/v1/dpl_replication/${rel}/`, { metadata: { replication_operation: "promote" } }));
    expect(await shown(a)).toMatchObject({ state: "promoted" });
  });
});

describe("replication requests that cannot hold", () => {
  it("are refused naming the field, and leave nothing on either side", async () => {
    const both = await a.put(`/v1/dpl_replication/${rel}/`, {
      metadata: { source_volume: members[0], source_volume_group: group, target: peer(b), target_pool_uuid: poolB },
    });
    expect(both.statusCode, both.body).toBe(400);
    expect(both.body).toMatch(/source_volume/);
    const missing = await a.put(`/v1/dpl_replication/${rel}/`, { metadata: { source_volume_group: hexId(0xee), target: peer(b), target_pool_uuid: poolB } });
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json()).toMatchObject({ error: { field: "metadata.source_volume_group" } });
    const wrongPassword = await a.put(`/v1/dpl_replication/${rel}/`, {
      metadata: { source_volume_group: group, target: { ...peer(b), password: "wrong" }, target_pool_uuid: poolB },
    });
    expect(wrongPassword.statusCode, wrongPassword.body).toBe(400);
    expect(wrongPassword.json()).toMatchObject({ error: { field: "metadata.target" } });
    for (const server of [a, b]) expect((await server.request({ method: "GET", url: `/v1/dpl_replication/${rel}/` })).statusCode).toBe(404);
  });
});

describe("the RPO schedule", () => {
  it("syncs a new relationship without being asked, then waits until the last sync is RPO seconds old", async () => {
    await replicateGroup({ rpo_seconds: 10 });
    await expect.poll(async () => (await shown(a)).last_synced_snapshot_time, { timeout: 5000 }).not.toBeNull();
    const first = (await shown(a)).last_synced_snapshot_time as number;
    // Well inside the RPO: no second sync.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await shown(a)).last_synced_snapshot_time).toBe(first);
    // A restart finds the last sync 11 s old: due at once.
    a = await a.restart((store) => {
      const record = store.getReplication(rel);
      if (record !== undefined) store.putReplication({ ...record, lastSnapshotTime: Date.now() - 11_000 });
    });
    await expect.poll(async () => (await shown(a)).last_synced_snapshot_time, { timeout: 5000 }).toBeGreaterThan(first);
  });
});
