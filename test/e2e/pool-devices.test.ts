/**
 * A Pool's device list changed in a Pulumi program is an in-place update through the real pulumi
 * engine: preview shows an update of the Pool (no replace, the Volume untouched), up adds,
 * replaces and removes devices on the real server, and the data written through the volume's
 * iSCSI export is still there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpType } from "@pulumi/pulumi/automation";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { holdsPattern, writePattern } from "./iscsi-data";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;
const HOST = "iqn.2026-01.com.example:pool-devices";

function program(deviceGib: number[]): string {
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = new dpl.Pool("mirror", { name: "e2e-mirror", raidLevel: "raid1", devices: ${JSON.stringify(deviceGib.map((sizeGib) => ({ sizeGib })))}, forceDestroy: true });`,
    `const data = new dpl.Volume("data", { pool, sizeBytes: ${128 * MIB}, name: "e2e-on-mirror" });`,
    `const dataExport = new dpl.ISCSIExport("data", { volume: data, initiators: [${JSON.stringify(HOST)}] });`,
    `export const poolId = pool.poolId;`,
    `export const state = pool.state;`,
    `export const deviceHealth = pool.deviceHealth;`,
    `export const volumeId = data.volumeId;`,
    `export const dataOpts = dataExport.connection.qemuImageOpts;`,
  ].join("\n") + "\n";
}

interface DeviceHealthOutput {
  deviceId: string;
  sizeBytes: number;
  state: string;
  errors: Record<string, number>;
}

describe("a Pool's devices through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  let outputs: Record<string, unknown> = {};

  const preview = (deviceGib: number[]): Promise<Record<string, OpType>> => stack.previewProgram(program(deviceGib));
  async function up(deviceGib: number[]): Promise<void> {
    outputs = await stack.upProgram(program(deviceGib));
  }

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "512MiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("pool-devices", program([0.5, 0.5]), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("adds, then replaces and removes devices in place; the volume and its data survive", async () => {
    await up([0.5, 0.5]);
    const poolId = String(outputs.poolId);
    const volumeId = String(outputs.volumeId);
    const dataOpts = String(outputs.dataOpts);
    expect(outputs.state).toBe("Online");
    expect((outputs.deviceHealth as DeviceHealthOutput[]).map((d) => d.state)).toEqual(["Online", "Online"]);
    expect((outputs.deviceHealth as DeviceHealthOutput[])[0]?.errors).toEqual({ read: 0, write: 0, flush: 0, corruption: 0, generation: 0 });
    await writePattern(dataOpts, 0x5d, 0, 8 * MIB);

    // A third device: an update of the Pool alone.
    expect(await preview([0.5, 0.5, 0.5])).toEqual({ "Pool:mirror": "update" });
    await up([0.5, 0.5, 0.5]);
    expect(outputs.poolId).toBe(poolId);
    expect(outputs.volumeId).toBe(volumeId);
    expect((await client.getPool(poolId))?.metadata.devices).toHaveLength(3);
    expect(await holdsPattern(dataOpts, 0x5d, 0, 8 * MIB)).toBe(true);

    // One half-GiB device becomes a larger one (replace), another goes (remove).
    const before = new Set((outputs.deviceHealth as DeviceHealthOutput[]).map((d) => d.deviceId));
    expect(await preview([0.5, 0.75])).toEqual({ "Pool:mirror": "update" });
    await up([0.5, 0.75]);
    expect(outputs.poolId).toBe(poolId);
    expect(outputs.volumeId).toBe(volumeId);
    const health = outputs.deviceHealth as DeviceHealthOutput[];
    expect(health.map((d) => d.sizeBytes).sort((a, b) => a - b)).toEqual([512 * MIB, 768 * MIB]);
    expect(health.filter((d) => before.has(d.deviceId))).toHaveLength(1);
    expect(health.every((d) => d.state === "Online")).toBe(true);
    expect(outputs.state).toBe("Online");
    expect(await holdsPattern(dataOpts, 0x5d, 0, 8 * MIB)).toBe(true);

    // The same devices in another order: nothing to do.
    expect(await preview([0.75, 0.5])).toEqual({});
    await stack.stack.destroy({ onOutput: () => undefined });
    expect(await client.getPool(poolId)).toBeUndefined();
  });
});
