/**
 * examples/ceph-pool deploys against a DPL server whose pool lives on a real single-node Ceph
 * cluster (scripts/ceph-cluster.sh), meets reality again without changes (a second `up`, a
 * `refresh`), and destroys, leaving no image of its pool in the Ceph pool.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { TestCephCluster } from "../support/ceph-cluster";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const exampleDir = resolve(__dirname, "..", "..", "examples", "ceph-pool");

describe("the ceph-pool example", () => {
  let cluster: TestCephCluster;
  let server: RunningServer;
  let client: DplClient;
  let program: ProgramStack;
  const cleanups = new Cleanups();

  beforeAll(async () => {
    // The example's 10 GiB volume must fit the pool (a thin volume may not outgrow it): a 16 GiB sparse OSD.
    cluster = await TestCephCluster.start({ osdSize: "16G" });
    cleanups.add(() => cluster.stop());
    // The server's tgtd holds rbd images open: it stops before the cluster (cleanups run last-in first).
    server = await startServer({ extraArgs: cluster.serverArgs });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    program = await createProgramStack("ceph-pool", undefined, server, {
      cephConfig: cluster.conf, cephKeyring: cluster.keyring, cephUser: cluster.client, rbdPool: cluster.rbdPool,
      // Protected by default (it holds data); the test destroys it.
      keepData: "false",
    }, exampleDir);
    cleanups.add(() => program.remove());
    cleanups.add(() => program.stack.destroy({ onOutput: () => undefined }).then(() => undefined, () => undefined));
  }, 600_000);
  afterAll(() => cleanups.run(), 300_000);

  it("deploys an rbd pool with a volume, a snapshot and a clone; a second up and a refresh change nothing", async () => {
    const up = await program.stack.up({ onOutput: () => undefined });
    const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value as unknown]));
    const poolId = String(out.poolId);
    expect((await client.getPool(poolId))?.metadata).toMatchObject({ backend: "rbd", ceph: { rbd_pool: cluster.rbdPool } });
    expect(out.clusterState).toBe("Online");
    expect(Number(out.freeBytes)).toBeGreaterThan(0);
    const reporting = await client.getVolume(String(out.reportingId));
    expect(reporting?.metadata.total_capacity).toBe(10 * 2 ** 30);
    const ourImages = (): Promise<string[]> => cluster.imagesOfPool(poolId);
    expect(await ourImages()).toEqual([`dpl-${poolId}-${String(out.databaseId)}`, `dpl-${poolId}-${String(out.reportingId)}`].sort());

    const again = await program.stack.up({ onOutput: () => undefined });
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    const refresh = await program.stack.refresh({ onOutput: () => undefined });
    expect(Object.keys(refresh.summary.resourceChanges ?? {})).toEqual(["same"]);

    await program.stack.destroy({ onOutput: () => undefined });
    expect((await client.listPools()).map((p) => p.id)).toEqual([server.poolId]);
    expect(await ourImages()).toEqual([]);
  });
});
