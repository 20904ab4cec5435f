/**
 * The repository's own Pulumi.yaml (the README's main job): up against a fresh DPL server, the
 * attach info it exports lets the host it names read the LUN, destroy leaves nothing.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { holdsPattern, writePattern } from "./iscsi-data";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

describe("the quickstart program (/work/main/Pulumi.yaml)", () => {
  let server: RunningServer;
  let client: DplClient;
  let quickstart: ProgramStack;

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    quickstart = await createProgramStack("quickstart", undefined, server, {}, resolve(__dirname, "..", ".."));
    cleanups.add(() => quickstart.remove());
    cleanups.add(() => quickstart.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("creates a volume on the default pool, a snapshot, a clone and an export a host can attach with", async () => {
    const result = await quickstart.stack.up({ onOutput: () => undefined });
    const out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
    expect(out.poolId).toBe(server.poolId);
    expect(out.portal).toBe(server.portal);
    expect(out.targetIqn).toMatch(/^iqn\./);
    expect(typeof out.lun).toBe("number");
    expect(out.attachWithIscsiadm).toContain(`-T ${String(out.targetIqn)}`);
    const volume = await client.getVolume(String(out.volumeId));
    expect(volume?.metadata.total_capacity).toBe(2 ** 30);
    expect((await client.getVolume(String(out.cloneId)))?.metadata.origin_uuid).toBe(out.snapshotId);

    // The exported qemu-img command's image options, as the quickstart host would use them.
    const imageOpts = String(out.attachWithQemu).replace(/^qemu-img info --image-opts /, "");
    await writePattern(imageOpts, 0x5a, 0, 65_536);
    expect(await holdsPattern(imageOpts, 0x5a, 0, 65_536)).toBe(true);

    await quickstart.stack.destroy({ onOutput: () => undefined });
    expect(await client.listVolumes()).toEqual([]);
  });
});
