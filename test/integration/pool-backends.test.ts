/**
 * The same data-integrity checks on both pool backends, from one table: a btrfs pool (the
 * server's embedded one) and an rbd pool on a real single-node Ceph cluster that
 * scripts/ceph-cluster.sh starts for this file and removes afterwards. Every check reads and
 * writes through tgtd and a real iSCSI initiator (qemu-io over libiscsi): snapshots keep their
 * data, clones and volumes made from snapshots start with it and then live apart, rollback of an
 * exported volume serves the snapshot's data to a session that stays logged in, extend is
 * visible to the initiator, only the ACL's initiators get in, and deleting a parent never harms
 * its children. rbd-only facts (copy-on-write clones, images removed with their pool) follow.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, type IscsiConnection } from "../../provider/src/client";
import { toHexId } from "../../provider/src/wire";
import { TestCephCluster } from "../support/ceph-cluster";
import { startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, QemuIoSession, runQemuIo, writePattern, type LunAddress } from "../support/iscsi-initiator";

const MiB = 2 ** 20;
const HOST = "iqn.2026-12.org.opendpl.test:backends";
const STRANGER = "iqn.2026-12.org.opendpl.test:stranger";

let server: RunningServer;
let client: DplClient;
let cluster: TestCephCluster | undefined;
let rbdPoolId = "";
const teardown: Array<() => Promise<void>> = [];

const newId = (): string => toHexId(randomUUID());

/** `rbd` as the DPL server's Ceph user. */
async function rbd(...args: string[]): Promise<string> {
  if (cluster === undefined) throw new Error("no cluster");
  return cluster.rbd(...args);
}

const dplImages = async (): Promise<string[]> => (await cluster?.imagesOfPool(rbdPoolId)) ?? [];

beforeAll(async () => {
  cluster = await TestCephCluster.start();
  const started = cluster;
  teardown.push(() => started.stop());
  server = await startServer({ extraArgs: cluster.serverArgs });
  // The server (and its tgtd, which holds rbd images open) stops before the cluster does.
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ...(server.caPem === "" ? {} : { ca: server.caPem }) });
  teardown.push(() => client.close());
  rbdPoolId = newId();
  const pool = await client.createPool(rbdPoolId, {
    name: "ceph", devices: [], backend: "rbd",
    ceph: cluster.poolConnection,
  });
  expect(pool.metadata).toMatchObject({ backend: "rbd", state: "Online", devices: [] });
  expect(pool.metadata.total_capacity).toBeGreaterThan(0);
  teardown.push(async () => {
    await client.deletePool(rbdPoolId, { force: true });
    // Deleting the pool took every image it made with it.
    expect(await dplImages()).toEqual([]);
  });
}, 600_000);

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
}, 300_000);

const backends = [
  { backend: "btrfs", poolId: (): string => server.poolId },
  { backend: "rbd", poolId: (): string => rbdPoolId },
];

async function volumeIn(poolId: string, sizeBytes = 64 * MiB): Promise<string> {
  const id = newId();
  await client.createVolume(id, { poolId, sizeBytes, name: `backends-${id.slice(0, 6)}` });
  return id;
}

/** Exports the volume to HOST and returns the LUN as HOST reaches it. */
async function exported(volumeId: string): Promise<LunAddress> {
  const { connections } = await client.assignIscsi(volumeId, { initiators: [HOST] });
  const connection: IscsiConnection | undefined = connections[0];
  if (connection === undefined) throw new Error("no connection info");
  return { portal: connection.portal, targetIqn: connection.targetIqn, lun: connection.lun, initiator: HOST };
}

describe.each(backends)("on a $backend pool", ({ poolId }) => {
  const volume = (sizeBytes?: number): Promise<string> => volumeIn(poolId(), sizeBytes);

  async function remove(...volumeIds: string[]): Promise<void> {
    for (const id of volumeIds) await client.deleteVolume(id, { force: true });
  }

  it("keeps a snapshot's data while the volume changes; a volume copied from it starts with that data", async () => {
    const source = await volume();
    const lun = await exported(source);
    await writePattern(lun, 0x11, 0, MiB);
    const snapshot = newId();
    await client.createSnapshot(source, snapshot);
    await writePattern(lun, 0x22, 0, MiB);
    const copy = newId();
    await client.copyFromSnapshot(copy, source, snapshot);
    const copyLun = await exported(copy);
    expect(await holdsPattern(copyLun, 0x11, 0, MiB)).toBe(true);
    await writePattern(copyLun, 0x33, 0, MiB);
    expect(await holdsPattern(lun, 0x22, 0, MiB)).toBe(true);
    // The copy's parent goes first: the copy keeps its data (rbd flattens it).
    await client.deleteSnapshot(source, snapshot);
    expect(await holdsPattern(copyLun, 0x33, 0, MiB)).toBe(true);
    await remove(copy, source);
  });

  it("clones a volume with its data; then the clone and its source change apart", async () => {
    const source = await volume();
    const lun = await exported(source);
    await writePattern(lun, 0x44, 4 * MiB, MiB);
    const clone = newId();
    await client.cloneVolume(clone, source);
    await writePattern(lun, 0x55, 4 * MiB, MiB);
    const cloneLun = await exported(clone);
    expect(await holdsPattern(cloneLun, 0x44, 4 * MiB, MiB)).toBe(true);
    // The source goes first, with the clone still made from it.
    await remove(source);
    expect(await holdsPattern(cloneLun, 0x44, 4 * MiB, MiB)).toBe(true);
    await remove(clone);
  });

  it("rolls an exported volume back: a session logged in throughout reads the snapshot's data", async () => {
    const id = await volume();
    const lun = await exported(id);
    await writePattern(lun, 0x66, 0, MiB);
    const snapshot = newId();
    await client.createSnapshot(id, snapshot);
    const session = await QemuIoSession.open(lun);
    try {
      // 119 = 0x77 over the 0x66 the snapshot holds (qemu-io's -P takes a decimal byte).
      expect(await session.command("write -P 119 0 1M")).toContain("wrote 1048576/1048576");
      await client.rollbackVolume(id, snapshot);
      const read = await session.command("read -P 102 0 1M");
      expect(read).toContain("read 1048576/1048576");
      expect(read).not.toContain("Pattern verification failed");
    } finally {
      await session.close();
    }
    await client.deleteSnapshot(id, snapshot);
    await remove(id);
  });

  it("extends an exported volume: the initiator sees the new size and writes at its end", async () => {
    const id = await volume(32 * MiB);
    const lun = await exported(id);
    expect((await runQemuIo(lun, "length")).output).toContain("32 MiB");
    await client.extendVolume(id, 96 * MiB);
    expect((await runQemuIo(lun, "length")).output).toContain("96 MiB");
    await writePattern(lun, 0x88, 95 * MiB, MiB);
    expect(await holdsPattern(lun, 0x88, 95 * MiB, MiB)).toBe(true);
    await remove(id);
  });

  it("lets in only the initiators of the export's ACL", async () => {
    const id = await volume();
    const lun = await exported(id);
    expect((await runQemuIo(lun, "read 0 4k")).ok).toBe(true);
    const refused = await runQemuIo({ ...lun, initiator: STRANGER }, "read 0 4k");
    expect(refused.ok).toBe(false);
    await remove(id);
  });
});

describe("rbd only", () => {
  it("makes a volume from a snapshot as a copy-on-write clone: Ceph shows its parent and no data copied", async () => {
    const source = await volumeIn(rbdPoolId);
    await writePattern(await exported(source), 0x99, 0, 16 * MiB);
    const snapshot = newId();
    await client.createSnapshot(source, snapshot);
    const child = newId();
    await client.copyFromSnapshot(child, source, snapshot);
    const info = JSON.parse(await rbd("info", "--format", "json", `${cluster?.rbdPool ?? ""}/dpl-${rbdPoolId}-${child}`)) as { parent?: { image: string; snapshot: string } };
    expect(info.parent).toMatchObject({ image: `dpl-${rbdPoolId}-${source}`, snapshot });
    const du = JSON.parse(await rbd("du", "--format", "json", `${cluster?.rbdPool ?? ""}/dpl-${rbdPoolId}-${child}`)) as { images: { used_size: number }[] };
    expect(du.images.at(-1)?.used_size).toBe(0);
    await client.deleteSnapshot(source, snapshot);
    for (const id of [child, source]) await client.deleteVolume(id, { force: true });
    expect(await dplImages()).toEqual([]);
  });

  it("refuses a pool whose Ceph user cannot reach the RBD pool, and keeps no record of it", async () => {
    if (cluster === undefined) throw new Error("no cluster");
    const id = newId();
    const attempt = client.createPool(id, {
      name: "unreachable", devices: [], backend: "rbd",
      ceph: { ...cluster.poolConnection, rbd_pool: "no-such-pool" },
    });
    await expect(attempt).rejects.toThrow(/no-such-pool/);
    expect(await client.getPool(id)).toBeUndefined();
  });
});
