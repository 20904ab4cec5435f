/**
 * Through the real pulumi engine, the changes that used to replace data-holding resources are
 * updates: a Pool's RAID level (online conversion), a Volume's thin/thick and cache mode, and its
 * pool (a move). Each previews as an update of that resource alone, keeps every id and the
 * export's address, and the data written through iSCSI before reads back identical after. A
 * profile the declared devices cannot hold fails the preview naming `raidLevel`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { holdsPattern, writePattern } from "./iscsi-data";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const MIB = 2 ** 20;
const HOST = "iqn.2026-01.com.example:in-place";

interface Declared {
  raidLevel?: string;
  thin?: boolean;
  cacheMode?: string;
  /** Which pool the volume is in. */
  volumePool: "first" | "second";
}

function program(d: Declared): string {
  const raid = d.raidLevel === undefined ? "" : `, raidLevel: ${JSON.stringify(d.raidLevel)}`;
  const volumeArgs = [
    d.thin === undefined ? "" : `, thin: ${String(d.thin)}`,
    d.cacheMode === undefined ? "" : `, cacheMode: ${JSON.stringify(d.cacheMode)}`,
  ].join("");
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const first = new dpl.Pool("first", { name: "in-place-first", devices: [{ sizeGib: 0.5 }, { sizeGib: 0.5 }], forceDestroy: true${raid} });`,
    `const second = new dpl.Pool("second", { name: "in-place-second", devices: [{ sizeGib: 0.5 }], forceDestroy: true });`,
    `const data = new dpl.Volume("data", { pool: ${d.volumePool}, sizeBytes: ${64 * MIB}${volumeArgs} });`,
    `const lun = new dpl.ISCSIExport("data", { volume: data, initiators: [${JSON.stringify(HOST)}] });`,
    `export const firstPoolId = first.poolId;`,
    `export const secondPoolId = second.poolId;`,
    `export const volumeId = data.volumeId;`,
    `export const volumePoolId = data.poolId;`,
    `export const imageOpts = lun.connection.qemuImageOpts;`,
  ].join("\n") + "\n";
}

describe("changes made in place through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  const cleanups = new Cleanups();

  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "256MiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("in-place", program({ volumePool: "first" }), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("converts RAID, re-provisions, re-caches and moves the volume, keeping ids, export and data", async () => {
    const first = await stack.upProgram(program({ volumePool: "first" }));
    const imageOpts = String(first.imageOpts);
    await writePattern(imageOpts, 0x4b, 0, 16 * MIB);
    const same = (outputs: Record<string, unknown>): void => {
      for (const key of ["firstPoolId", "secondPoolId", "volumeId", "imageOpts"]) expect(outputs[key], key).toBe(first[key]);
    };

    // The first pool goes from single to raid1 on its two devices.
    const raid1: Declared = { raidLevel: "raid1", volumePool: "first" };
    expect(await stack.previewProgram(program(raid1))).toEqual({ "Pool:first": "update" });
    same(await stack.upProgram(program(raid1)));
    expect((await client.getPool(String(first.firstPoolId)))?.metadata.properties.raid_level).toBe("raid1");
    expect(await holdsPattern(imageOpts, 0x4b, 0, 16 * MIB)).toBe(true);

    // Two devices cannot hold raid10: the preview fails naming the field, nothing changes.
    const refused = await stack.previewProgram(program({ ...raid1, raidLevel: "raid10" })).then(() => "", (e: unknown) => String(e));
    expect(refused).toMatch(/raidLevel.*raid10 needs at least 4 devices; the pool declares 2/s);

    // Thick and direct I/O, in one update of the Volume.
    const thick: Declared = { ...raid1, thin: false, cacheMode: "direct" };
    expect(await stack.previewProgram(program(thick))).toEqual({ "Volume:data": "update" });
    same(await stack.upProgram(program(thick)));
    expect((await client.getVolume(String(first.volumeId)))?.metadata.properties).toMatchObject({ thin_provision: false, cache_mode: "direct" });
    expect(await holdsPattern(imageOpts, 0x4b, 0, 16 * MIB)).toBe(true);

    // The move: the volume's data goes to the other pool; its export follows.
    const moved: Declared = { ...thick, volumePool: "second" };
    expect(await stack.previewProgram(program(moved))).toEqual({ "Volume:data": "update" });
    const after = await stack.upProgram(program(moved));
    same(after);
    expect(after.volumePoolId).toBe(first.secondPoolId);
    expect((await client.getVolume(String(first.volumeId)))?.metadata).toMatchObject({
      pool_uuid: first.secondPoolId, properties: { thin_provision: false, cache_mode: "direct" },
    });
    expect(await holdsPattern(imageOpts, 0x4b, 0, 16 * MIB)).toBe(true);
    expect(await stack.previewProgram(program(moved))).toEqual({});

    // Back to thin and the default cache mode by dropping the inputs: still updates.
    const defaults: Declared = { raidLevel: "raid1", volumePool: "second" };
    expect(await stack.previewProgram(program(defaults))).toEqual({ "Volume:data": "update" });
    same(await stack.upProgram(program(defaults)));
    expect((await client.getVolume(String(first.volumeId)))?.metadata.properties).toMatchObject({ thin_provision: true, cache_mode: "writeback" });
    expect(await holdsPattern(imageOpts, 0x4b, 0, 16 * MIB)).toBe(true);
  });
});
