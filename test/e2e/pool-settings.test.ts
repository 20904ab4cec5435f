/**
 * A Pool's name, description, compression and over-subscription cap, and a Volume's compression,
 * change in place through the real pulumi engine: preview shows an update of that resource alone
 * (the Volume in the pool and its export stay), up keeps every id, the server reports the new
 * settings, the mount compresses new writes with the new algorithm, and the data written through
 * iSCSI before reads back identical.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpType } from "@pulumi/pulumi/automation";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { holdsPattern, writePattern } from "./iscsi-data";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;
const HOST = "iqn.2026-01.com.example:pool-settings";

interface Settings {
  /** The Volume's compression (the rest are the Pool's). */
  volumeCompression?: string;
  name: string;
  description?: string;
  compression?: string;
  maxOversubscription?: number;
}

const before: Settings = { name: "e2e-settings", description: "first", maxOversubscription: 4 };
const after: Settings = { name: "e2e-settings-renamed", description: "second", compression: "zstd", maxOversubscription: 8 };

function program({ volumeCompression, ...poolSettings }: Settings): string {
  const volumeArgs = volumeCompression === undefined ? "" : `, compression: ${JSON.stringify(volumeCompression)}`;
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = new dpl.Pool("settings", { devices: [{ sizeGib: 0.5 }], forceDestroy: true, ...${JSON.stringify(poolSettings)} });`,
    `const data = new dpl.Volume("data", { pool, sizeBytes: ${64 * MIB}${volumeArgs} });`,
    `const lun = new dpl.ISCSIExport("data", { volume: data, initiators: [${JSON.stringify(HOST)}] });`,
    `export const poolId = pool.poolId;`,
    `export const volumeId = data.volumeId;`,
    `export const imageOpts = lun.connection.qemuImageOpts;`,
  ].join("\n") + "\n";
}

/** The mount options of the pool's filesystem, as the kernel has them. */
function poolMountOptions(server: RunningServer, poolId: string): string {
  const mountPoint = join(server.stateDir, "pools", poolId);
  const line = readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === mountPoint);
  if (line === undefined) throw new Error(`pool ${poolId} is not mounted at ${mountPoint}`);
  return line.split(" ")[3] ?? "";
}

describe("a Pool's settings through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  let outputs: Record<string, unknown> = {};

  const preview = (settings: Settings): Promise<Record<string, OpType>> => stack.previewProgram(program(settings));
  async function up(settings: Settings): Promise<void> {
    outputs = await stack.upProgram(program(settings));
  }

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "512MiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("pool-settings", program(before), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("renames, re-describes, re-compresses and re-caps the pool in place, keeping its volume and data", async () => {
    await up(before);
    const poolId = String(outputs.poolId);
    const volumeId = String(outputs.volumeId);
    const imageOpts = String(outputs.imageOpts);
    await writePattern(imageOpts, 0x6c, 0, 8 * MIB);
    expect(poolMountOptions(server, poolId)).not.toMatch(/compress/);

    expect(await preview(after)).toEqual({ "Pool:settings": "update" });
    await up(after);
    expect(outputs.poolId).toBe(poolId);
    expect(outputs.volumeId).toBe(volumeId);
    const pool = await client.getPool(poolId);
    expect(pool?.metadata).toMatchObject({
      display_name: after.name, display_description: after.description, max_oversubscription: after.maxOversubscription,
      properties: { compression: "zstd" },
    });
    expect(poolMountOptions(server, poolId)).toMatch(/compress=zstd/);
    expect(await holdsPattern(imageOpts, 0x6c, 0, 8 * MIB)).toBe(true);
    expect(await preview(after)).toEqual({});

    // The Volume's own compression: an update of the Volume alone, same id, same data.
    expect(await preview({ ...after, volumeCompression: "lzo" })).toEqual({ "Volume:data": "update" });
    await up({ ...after, volumeCompression: "lzo" });
    expect(outputs.volumeId).toBe(volumeId);
    expect((await client.getVolume(volumeId))?.metadata.properties.compression).toBe("lzo");
    expect(await holdsPattern(imageOpts, 0x6c, 0, 8 * MIB)).toBe(true);
    expect(await preview({ ...after, volumeCompression: "lzo" })).toEqual({});

    // Back to no description, cap or compression (the Volume's too): still in place.
    expect(await preview({ name: after.name })).toEqual({ "Pool:settings": "update", "Volume:data": "update" });
    await up({ name: after.name });
    expect(outputs.poolId).toBe(poolId);
    expect((await client.getPool(poolId))?.metadata).toMatchObject({ display_description: null, max_oversubscription: null, properties: { compression: "none" } });
    expect((await client.getVolume(volumeId))?.metadata.properties.compression).toBe("none");
    expect(poolMountOptions(server, poolId)).not.toMatch(/compress=zstd/);
    expect(await holdsPattern(imageOpts, 0x6c, 0, 8 * MIB)).toBe(true);

    // The next start mounts with the recorded compression.
    await up(after);
    await server.restart();
    expect(poolMountOptions(server, poolId)).toMatch(/compress=zstd/);
    expect(await holdsPattern(imageOpts, 0x6c, 0, 8 * MIB)).toBe(true);
  });
});
