/**
 * VolumeGroup and GroupSnapshot through the real pulumi engine against a real DPL server: a group
 * of two volumes and a group snapshot of it; then a member is swapped in place (the group is
 * updated, never replaced, and the snapshot keeps the members it was taken of); then destroy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { changingSteps, createProgramStack, stepRecorder, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;

function program(poolId: string, members: string[]): string {
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = ${JSON.stringify(poolId)};`,
    `const volumes = { a: new dpl.Volume("a", { pool, sizeBytes: ${64 * MIB} }), b: new dpl.Volume("b", { pool, sizeBytes: ${64 * MIB} }), c: new dpl.Volume("c", { pool, sizeBytes: ${32 * MIB} }) };`,
    `const group = new dpl.VolumeGroup("group", { volumes: ${JSON.stringify(members)}.map((m) => volumes[m as "a" | "b" | "c"]), name: "e2e-group" });`,
    `const snap = new dpl.GroupSnapshot("snap", { volumeGroup: group, name: "e2e-group-snap" });`,
    `export const ids = { a: volumes.a.volumeId, b: volumes.b.volumeId, c: volumes.c.volumeId };`,
    `export const groupId = group.volumeGroupId;`,
    `export const memberIds = group.memberIds;`,
    `export const totalBytes = group.totalBytes;`,
    `export const snapId = snap.groupSnapshotId;`,
    `export const memberSnapshots = snap.memberSnapshots;`,
  ].join("\n") + "\n";
}

describe("volume groups through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  const outputs: Record<string, unknown> = {};
  const cleanups = new Cleanups();

  beforeAll(async () => {
    server = await startServer();
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("volume-groups", program(server.poolId, ["a", "b"]), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  async function up(): Promise<void> {
    const result = await stack.stack.up({ onOutput: () => undefined });
    for (const [key, out] of Object.entries(result.outputs)) outputs[key] = out.value;
  }
  const ids = (): Record<"a" | "b" | "c", string> => outputs.ids as Record<"a" | "b" | "c", string>;

  it("up makes the group of a and b and a snapshot of both", async () => {
    await up();
    const groupId = String(outputs.groupId);
    const group = await client.getVolumeGroup(groupId);
    expect(new Set(group?.children)).toEqual(new Set([ids().a, ids().b]));
    expect(outputs.totalBytes).toBe(128 * MIB);
    const members = outputs.memberSnapshots as Record<string, string>;
    expect(Object.keys(members).sort()).toEqual([ids().a, ids().b].sort());
    const snapshot = await client.getGroupSnapshot(groupId, String(outputs.snapId));
    expect(snapshot?.metadata.member).toEqual(members);
    // Each member snapshot is an ordinary snapshot of its volume.
    for (const [volume, memberSnapshot] of Object.entries(members)) expect(await client.getSnapshot(volume, memberSnapshot)).toBeDefined();
  });

  it("swapping a member updates the group in place and leaves the group snapshot alone", async () => {
    const before = { groupId: outputs.groupId, snapId: outputs.snapId };
    stack.writeProgram(program(server.poolId, ["b", "c"]));
    const recorder = stepRecorder();
    await stack.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toEqual({ "VolumeGroup:group": "update" });
    expect(recorder.steps.get("VolumeGroup:group")?.diffs).toEqual(["volumes"]);

    await up();
    expect(outputs.groupId).toBe(before.groupId);
    expect(outputs.snapId).toBe(before.snapId);
    const group = await client.getVolumeGroup(String(outputs.groupId));
    expect(new Set(group?.children)).toEqual(new Set([ids().b, ids().c]));
    expect(new Set(outputs.memberIds as string[])).toEqual(new Set([ids().b, ids().c]));
    expect(outputs.totalBytes).toBe(96 * MIB);
    const snapshot = await client.getGroupSnapshot(String(outputs.groupId), String(outputs.snapId));
    expect(Object.keys(snapshot?.metadata.member ?? {}).sort()).toEqual([ids().a, ids().b].sort());

    await stack.stack.refresh({ onOutput: () => undefined });
    const again = stepRecorder();
    await stack.stack.preview({ onEvent: again.onEvent, diff: true });
    expect(changingSteps(again.steps)).toEqual({});
  });

  it("destroy removes the group and the volumes", async () => {
    const groupId = String(outputs.groupId);
    await stack.stack.destroy({ onOutput: () => undefined });
    expect(await client.getVolumeGroup(groupId)).toBeUndefined();
    for (const volume of Object.values(ids())) expect(await client.getVolume(volume)).toBeUndefined();
  });
});
