/**
 * The whole life of a DPL stack with the real pulumi engine against a real DPL server (btrfs,
 * tgtd), data checked end to end through the exported LUNs with a user-space initiator.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { asInitiator, holdsPattern, writePattern } from "./iscsi-data";
import type { OpType } from "@pulumi/pulumi/automation";
import { changingSteps, createProgramStack, stepRecorder, type ProgramStack } from "./pulumi-stack";

const GIB = 2 ** 30;
const HOST1 = "iqn.2026-01.com.example:host1";
const HOST2 = "iqn.2026-01.com.example:host2";
const HOST3 = "iqn.2026-01.com.example:host3";
const CHAP_SECRET = "e2eChapSecret-42";
const MIB = 2 ** 20;

interface ProgramShape {
  dataGib: number;
  dataInitiators: string[];
  moverInExtraPool: boolean;
  withSnapshotAndClone: boolean;
  rollbackTriggers?: number[];
  adopt?: { volume: string; sizeBytes: number; snapshot: string };
}

/** The test program, one shape per stage; only what a stage edits differs between them. */
function program(poolId: string, shape: ProgramShape): string {
  const lines = [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = ${JSON.stringify(poolId)};`,
    `const extra = new dpl.Pool("extra", { name: "e2e-extra", devices: [{ sizeGib: 0.25 }], compression: "zstd", forceDestroy: true });`,
    `const data = new dpl.Volume("data", { pool, sizeGib: ${shape.dataGib}, name: "e2e-data" });`,
    `const dataExport = new dpl.ISCSIExport("data", { volume: data, initiators: ${JSON.stringify(shape.dataInitiators)} });`,
    `const mover = new dpl.Volume("mover", { pool: ${shape.moverInExtraPool ? "extra" : "pool"}, sizeBytes: ${64 * MIB} });`,
    `export const dataId = data.volumeId;`,
    `export const dataSize = data.sizeBytes;`,
    `export const dataOpts = dataExport.connection.qemuImageOpts;`,
    `export const dataIqn = dataExport.targetIqn;`,
    `export const moverPool = mover.poolId;`,
    `export const moverId = mover.volumeId;`,
    `export const extraPool = extra.poolId;`,
  ];
  if (shape.withSnapshotAndClone) {
    lines.push(
      `const snap = new dpl.Snapshot("snap", { volume: data, name: "e2e-snap" });`,
      `const copy = new dpl.Clone("copy", { sourceVolume: data, sourceSnapshot: snap, name: "e2e-copy" });`,
      `const copyExport = new dpl.ISCSIExport("copy", { volume: copy, initiators: [${JSON.stringify(HOST1)}], chap: { username: "e2e-user", secret: ${JSON.stringify(CHAP_SECRET)} } });`,
      `export const snapId = snap.snapshotId;`,
      `export const copyId = copy.volumeId;`,
      `export const copyOpts = copyExport.connection.qemuImageOpts;`,
    );
    if (shape.rollbackTriggers !== undefined) {
      lines.push(`new dpl.Rollback("restore", { volume: data, snapshot: snap, triggers: ${JSON.stringify(shape.rollbackTriggers)} });`);
    }
  }
  if (shape.adopt !== undefined) {
    lines.push(
      `const adopted = new dpl.Volume("adopted", { adopt: ${JSON.stringify(shape.adopt.volume)}, pool, sizeBytes: ${shape.adopt.sizeBytes} });`,
      `new dpl.Snapshot("adopted-snap", { adopt: ${JSON.stringify(shape.adopt.snapshot)}, volume: adopted });`,
      `const adoptedExport = new dpl.ISCSIExport("adopted", { adopt: ${JSON.stringify(shape.adopt.volume)}, volume: adopted, initiators: [${JSON.stringify(HOST3)}] });`,
      `export const adoptedOpts = adoptedExport.connection.qemuImageOpts;`,
    );
  }
  return lines.join("\n") + "\n";
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("a DPL stack through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let program1: ProgramStack;
  let poolId: string;
  let shape: ProgramShape;
  const outputs: Record<string, unknown> = {};

  async function up(): Promise<Record<string, string>> {
    program1.writeProgram(program(poolId, shape));
    const result = await program1.stack.up({ onOutput: () => undefined });
    for (const [key, out] of Object.entries(result.outputs)) outputs[key] = out.value;
    return Object.fromEntries(Object.entries(result.summary.resourceChanges ?? {}).map(([k, v]) => [k, String(v)]));
  }

  async function preview(): Promise<Record<string, OpType>> {
    program1.writeProgram(program(poolId, shape));
    const recorder = stepRecorder();
    await program1.stack.preview({ onEvent: recorder.onEvent, diff: true });
    return changingSteps(recorder.steps);
  }

  const opts = (key: string): string => {
    const value = outputs[key];
    if (typeof value !== "string") throw new Error(`stack output ${key} is missing`);
    return value;
  };

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    poolId = server.poolId;
    shape = { dataGib: 1, dataInitiators: [HOST1], moverInExtraPool: false, withSnapshotAndClone: false };
    program1 = await createProgramStack("lifecycle", program(poolId, shape), server);
    cleanups.add(() => program1.remove());
    cleanups.add(() => program1.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("fails preview naming the field for a negative size and a bad IQN", async () => {
    const badProgram = (size: number, initiator: string) => `import * as dpl from "@prophetstor/pulumi-dpl";
const v = new dpl.Volume("bad", { pool: ${JSON.stringify(poolId)}, sizeGib: ${size} });
new dpl.ISCSIExport("bad", { volume: v, initiators: ["iqn.2026-01.com.example:ok", ${JSON.stringify(initiator)}] });
`;
    program1.writeProgram(badProgram(-1, HOST2));
    const sizeError = await program1.stack.preview().then(() => "preview passed", (err: unknown) => String(err));
    expect(sizeError).toMatch(/property sizeGib value \{-1\} has a problem: must be greater than 0/);
    program1.writeProgram(badProgram(1, "not an iqn"));
    const iqnError = await program1.stack.preview().then(() => "preview passed", (err: unknown) => String(err));
    expect(iqnError).toMatch(/property initiators\[1\] [^\n]*has a problem: must be an iSCSI name/);
  });

  it("up creates the volume, its export and a pool, and the server shows them", async () => {
    const changes = await up();
    expect(changes.create).toBe("5"); // stack, extra pool, data, data export, mover
    const volume = await client.getVolume(opts("dataId"));
    expect(volume?.metadata.total_capacity).toBe(GIB);
    expect(volume?.exports["Network/iSCSI"]?.[0]?.target_identifier).toBe(outputs.dataIqn);
    expect(await client.getPool(opts("extraPool"))).toBeDefined();
    expect(outputs.moverPool).toBe(poolId);
  });

  it("writes data through the export's connection info, and other initiators are refused", async () => {
    expect(opts("dataOpts")).toContain(`initiator-name=${HOST1}`);
    await writePattern(opts("dataOpts"), 0xa1, 0, MIB);
    expect(await holdsPattern(opts("dataOpts"), 0xa1, 0, MIB)).toBe(true);
    await expect(holdsPattern(asInitiator(opts("dataOpts"), HOST2), 0xa1, 0, MIB)).rejects.toThrow();
  });

  it("a second up right after the first changes nothing", async () => {
    const changes = await up();
    expect(Object.keys(changes)).toEqual(["same"]);
  });

  it("a snapshot and a clone of it carry the data written before the snapshot", async () => {
    shape = { ...shape, withSnapshotAndClone: true };
    const changes = await up();
    expect(changes.create).toBe("3");
    // The clone's export uses CHAP; the connection info carries a placeholder for the secret.
    const copyOpts = opts("copyOpts").replace("<chap secret>", CHAP_SECRET);
    expect(await holdsPattern(copyOpts, 0xa1, 0, MIB)).toBe(true);
    await writePattern(opts("dataOpts"), 0xb2, 0, MIB);
    expect(await holdsPattern(copyOpts, 0xa1, 0, MIB)).toBe(true);
  });

  it("a Rollback brings the snapshot's data back into the exported volume", async () => {
    expect(await holdsPattern(opts("dataOpts"), 0xb2, 0, MIB)).toBe(true);
    shape = { ...shape, rollbackTriggers: [1] };
    await up();
    expect(await holdsPattern(opts("dataOpts"), 0xa1, 0, MIB)).toBe(true);
    // Re-running up does not roll back again: write, up, data stays.
    await writePattern(opts("dataOpts"), 0xc3, 0, MIB);
    await up();
    expect(await holdsPattern(opts("dataOpts"), 0xc3, 0, MIB)).toBe(true);
  });

  it("preview after an edit shows exactly: extend in place, initiator change in place, pool change moves in place", async () => {
    shape = { ...shape, dataGib: 2, dataInitiators: [HOST1, HOST2], moverInExtraPool: true };
    const recorder = stepRecorder();
    program1.writeProgram(program(poolId, shape));
    await program1.stack.preview({ onEvent: recorder.onEvent, diff: true });
    expect(changingSteps(recorder.steps)).toEqual({ "Volume:data": "update", "ISCSIExport:data": "update", "Volume:mover": "update" });
    expect(recorder.steps.get("Volume:data")?.diffs).toEqual(["sizeGib"]);
    expect(recorder.steps.get("ISCSIExport:data")?.diffs).toEqual(["initiators"]);
    expect(recorder.steps.get("Volume:mover")?.diffs).toEqual(["pool"]);
  });

  it("up applies the edit without touching data", async () => {
    const moverBefore = opts("moverId");
    await up();
    expect(opts("moverId")).toBe(moverBefore);
    const volume = await client.getVolume(opts("dataId"));
    expect(volume?.metadata.total_capacity).toBe(2 * GIB);
    expect(outputs.dataSize).toBe(2 * GIB);
    expect(outputs.moverPool).toBe(outputs.extraPool);
    expect(await holdsPattern(opts("dataOpts"), 0xc3, 0, MIB)).toBe(true);
    expect(await holdsPattern(asInitiator(opts("dataOpts"), HOST2), 0xc3, 0, MIB)).toBe(true);
    expect(await holdsPattern(opts("dataOpts"), 0, 2 * GIB - MIB, MIB)).toBe(true);
  });

  it("refresh sees objects deleted and resized behind Pulumi's back", async () => {
    await client.deleteVolume(opts("copyId"));
    await client.extendVolume(opts("dataId"), 3 * GIB);
    await program1.stack.refresh({ onOutput: () => undefined });
    const state = (await program1.stack.exportStack()).deployment as { resources: { urn: string; outputs?: Record<string, unknown>; inputs?: Record<string, unknown> }[] };
    const find = (type: string, name: string) => state.resources.find((r) => r.urn.endsWith(`dpl:${type}::${name}`));
    expect(find("Clone", "copy")).toBeUndefined();
    expect(find("ISCSIExport", "copy")).toBeUndefined();
    expect(find("Volume", "data")?.outputs?.sizeBytes).toBe(3 * GIB);
    expect(find("Volume", "data")?.inputs?.sizeGib).toBe(3);
    // The program still says 2 GiB: preview refuses to shrink, naming the field.
    const error = await program1.stack.preview().then(() => undefined, (err: unknown) => String(err));
    expect(error).toMatch(/sizeGib[^\n]*cannot shrink a volume from 3 GiB to 2 GiB/);
    shape = { ...shape, dataGib: 3 };
    const steps = await preview();
    expect(steps).toEqual({ "Clone:copy": "create", "ISCSIExport:copy": "create" });
    await up();
  });

  it("adopts an existing volume, snapshot and export by id without touching data; the next preview is empty", async () => {
    const volumeId = randomBytes(16).toString("hex");
    const snapshotId = randomBytes(16).toString("hex");
    await client.createVolume(volumeId, { poolId, sizeBytes: 256 * MIB });
    const attachment = await client.assignIscsi(volumeId, { initiators: [HOST3] });
    const connection = attachment.connections[0];
    if (connection === undefined) throw new Error("no connection for host3");
    const optsFor = `driver=iscsi,transport=tcp,portal=${connection.portal},target=${connection.targetIqn},lun=${connection.lun},initiator-name=${HOST3}`;
    await writePattern(optsFor, 0xd4, 0, MIB);
    await client.createSnapshot(volumeId, snapshotId, { name: "pre-adoption" });
    await writePattern(optsFor, 0xe5, 0, MIB);

    shape = { ...shape, adopt: { volume: volumeId, snapshot: snapshotId, sizeBytes: 256 * MIB } };
    const changes = await up();
    expect(changes.create).toBe("3");
    expect(await holdsPattern(opts("adoptedOpts"), 0xe5, 0, MIB)).toBe(true);
    expect((await client.getSnapshot(volumeId, snapshotId))?.metadata.display_name).toBe("pre-adoption");
    expect(await preview()).toEqual({});
  });

  it("keeps the DPL password and the CHAP secret out of the state in plain text", async () => {
    const exported = await program1.exportStoredState();
    expect(exported).toContain("ciphertext"); // the secrets are there, encrypted
    expect(exported).not.toContain(server.password);
    expect(exported).not.toContain(CHAP_SECRET);
    for (const file of filesUnder(program1.backendDir)) {
      const text = readFileSync(file, "latin1");
      expect(text.includes(server.password), file).toBe(false);
      expect(text.includes(CHAP_SECRET), file).toBe(false);
    }
    // The serialized provider is the small shim, with no client code or credentials.
    const providers = [...exported.matchAll(/"__provider":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? "");
    expect(providers.length).toBeGreaterThan(0);
    for (const text of providers) {
      expect(text.length).toBeLessThan(4096);
      expect(text).toContain("@prophetstor/dpl-provider");
      expect(text).not.toMatch(/undici|DplClient|password/i);
    }
  });

  it("destroy leaves nothing on the server", async () => {
    await program1.stack.destroy({ onOutput: () => undefined });
    expect(await client.listVolumes()).toEqual([]);
    expect((await client.listPools()).map((p) => p.id)).toEqual([poolId]);
  });
});
