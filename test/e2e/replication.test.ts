/**
 * Replication and Failover through the real pulumi engine, between two real servers: a volume
 * group on server A replicated to server B (target credentials from a config secret, never in
 * the program); an on-demand sync and an RPO change are in-place updates; a Failover promotes
 * the replicas on B, where the data written through iSCSI on A reads back; a Failover kept in
 * the state never fires again; destroy ends the relationship and leaves the replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, writePattern } from "../support/iscsi-initiator";
import { Cleanups } from "./cleanups";
import { changingSteps, createProgramStack, stepRecorder, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;
const HOST = "iqn.2025-01.org.opendpl.test:replication-e2e";

interface Knobs {
  rpoSeconds: number;
  sync: number;
  failover: boolean;
}

function program(a: RunningServer, b: RunningServer, knobs: Knobs): string {
  return [
    `import * as pulumi from "@pulumi/pulumi";`,
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const config = new pulumi.Config();`,
    `const pool = ${JSON.stringify(a.poolId)};`,
    `const one = new dpl.Volume("one", { pool, sizeBytes: ${64 * MIB} });`,
    `const two = new dpl.Volume("two", { pool, sizeBytes: ${32 * MIB} });`,
    `const group = new dpl.VolumeGroup("group", { volumes: [one, two] });`,
    `const target = { url: ${JSON.stringify(b.url)}, username: ${JSON.stringify(b.username)}, password: config.requireSecret("targetPassword") };`,
    `const rep = new dpl.Replication("rep", {`,
    `  volumeGroup: group, targetUrl: target.url, targetPool: ${JSON.stringify(b.poolId)}, targetCaCertificate: config.require("targetCa"),`,
    `  targetCredentials: { username: target.username, password: target.password },`,
    `  rpoSeconds: ${knobs.rpoSeconds}, syncTriggers: [${knobs.sync}],`,
    `});`,
    knobs.failover
      ? `new dpl.Failover("failover", { replication: rep.replicationId, replicaServer: { ...target, caCertificate: config.require("targetCa") } });`
      : "",
    `export const ids = { one: one.volumeId, two: two.volumeId, rep: rep.replicationId };`,
    `export const state = rep.state;`,
    `export const replicaVolumeIds = rep.replicaVolumeIds;`,
    `export const lastSyncBytes = rep.lastSyncBytes;`,
  ].join("\n") + "\n";
}

describe("Replication and Failover through the pulumi engine", () => {
  let a: RunningServer;
  let b: RunningServer;
  let clientA: DplClient;
  let clientB: DplClient;
  let stack: ProgramStack;
  let outputs: Record<string, unknown> = {};
  const cleanups = new Cleanups();
  const ids = (): Record<"one" | "two" | "rep", string> => outputs.ids as Record<"one" | "two" | "rep", string>;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    cleanups.add(() => Promise.all([a.stop(), b.stop()]).then(() => undefined));
    clientA = new DplClient({ endpoint: a.url, username: a.username, password: a.password, ca: a.caPem });
    clientB = new DplClient({ endpoint: b.url, username: b.username, password: b.password, ca: b.caPem });
    cleanups.add(() => Promise.all([clientA.close(), clientB.close()]).then(() => undefined));
    stack = await createProgramStack("replication", program(a, b, { rpoSeconds: 3600, sync: 1, failover: false }), a, { targetCa: b.caPem });
    await stack.stack.setConfig("targetPassword", { value: b.password, secret: true });
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).then(() => undefined, () => undefined));
  }, 180_000);
  afterAll(() => cleanups.run());

  async function exportOn(client: DplClient, volume: string) {
    const [connection] = (await client.assignIscsi(volume, { initiators: [HOST] })).connections;
    if (connection === undefined) throw new Error("no connection info");
    return connection;
  }

  it("up replicates the group: B holds both members as read-only replicas", async () => {
    outputs = await stack.upProgram(program(a, b, { rpoSeconds: 3600, sync: 1, failover: false }));
    expect([...(outputs.replicaVolumeIds as string[])].sort()).toEqual([ids().one, ids().two].sort());
    expect(outputs.state).toBe("idle");
    const onB = await clientB.getReplication(ids().rep);
    expect(onB?.metadata).toMatchObject({ role: "target", state: "replica" });
    expect(onB?.metadata.volume_group).not.toBeNull();
    for (const volume of [ids().one, ids().two]) expect(await clientB.getVolume(volume)).toBeDefined();
    // The password came from a config secret and stays one in the state.
    expect(await stack.exportStoredState()).not.toContain(b.password);
  }, 300_000);

  it("an on-demand sync and an RPO change are updates in place, and the second sync is incremental", async () => {
    const onA = await exportOn(clientA, ids().one);
    await writePattern(onA, 0x5a, 8 * MIB, 4 * MIB);
    await clientA.unassignIscsi(ids().one, [HOST]);
    const next = program(a, b, { rpoSeconds: 600, sync: 2, failover: false });
    stack.writeProgram(next);
    const recorder = stepRecorder();
    await stack.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toEqual({ "Replication:rep": "update" });
    expect([...(recorder.steps.get("Replication:rep")?.diffs ?? [])].sort()).toEqual(["rpoSeconds", "syncTriggers"]);
    outputs = await stack.upProgram(next);
    expect(outputs.lastSyncBytes).toBeGreaterThan(0);
    expect(outputs.lastSyncBytes).toBeLessThanOrEqual(8 * MIB);
    expect((await clientA.getReplication(ids().rep))?.metadata.rpo_seconds).toBe(600);
  }, 300_000);

  it("a Failover promotes the replicas on B, which hold what was written on A; kept in the state, it never fires again", async () => {
    const withFailover = program(a, b, { rpoSeconds: 600, sync: 2, failover: true });
    outputs = await stack.upProgram(withFailover);
    expect((await clientB.getReplication(ids().rep))?.metadata.state).toBe("promoted");
    // The Failover's server credentials are secrets in the state too.
    expect(await stack.exportStoredState()).not.toContain(b.password);
    const onB = await exportOn(clientB, ids().one);
    expect(await holdsPattern(onB, 0x5a, 8 * MIB, 4 * MIB)).toBe(true);
    await clientB.unassignIscsi(ids().one, [HOST]);
    const recorder = stepRecorder();
    await stack.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toEqual({});
  }, 300_000);

  it("destroy ends the relationship on both servers and leaves the replicas, writable", async () => {
    await stack.stack.destroy({ onOutput: () => undefined });
    expect(await clientA.getReplication(ids().rep)).toBeUndefined();
    expect(await clientB.getReplication(ids().rep)).toBeUndefined();
    for (const volume of [ids().one, ids().two]) {
      expect(await clientA.getVolume(volume)).toBeUndefined();
      expect(await clientB.getVolume(volume)).toBeDefined();
      await clientB.deleteVolume(volume);
    }
  }, 300_000);
});
