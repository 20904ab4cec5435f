/**
 * Adopting an existing volume through the provider's create hooks, against the real server:
 * Volume, Clone and VolumeFromImage follow one rule. A volume whose pool, size or provisioning
 * differs from the program is refused (adopting never changes data); one that differs only in
 * its name is taken and renamed.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import type { ResourceHooks } from "../../provider/src/resources/hook-types";
import { RESOURCE_HOOKS } from "../../provider/src/resources/registry";
import { toHexId } from "../../provider/src/wire";
import type { RunningServer } from "../support/dpl-server";
import { startHookTestServer, type HookTestServer } from "../support/hook-environment";

const MiB = 2 ** 20;

let server: RunningServer;
let client: DplClient;
let hooksServer: HookTestServer | undefined;

beforeAll(async () => {
  hooksServer = await startHookTestServer({ embeddedPoolSize: "512MiB" });
  ({ server, client } = hooksServer);
});
afterAll(async () => {
  await hooksServer?.stop();
});

/** check, then create, as the engine calls them for a new resource. */
async function createThrough(hooks: ResourceHooks, inputs: Record<string, unknown>): Promise<unknown> {
  const checked = await hooks.check({}, inputs);
  expect(checked.failures ?? []).toEqual([]);
  return hooks.create(checked.inputs ?? {});
}

describe("adopting a volume", () => {
  it("refuses a thick volume for a thin Volume and a thin Clone alike, leaving it as it was", async () => {
    const source = toHexId(randomUUID());
    const thick = toHexId(randomUUID());
    await client.createVolume(source, { poolId: server.poolId, sizeBytes: 32 * MiB });
    await client.createVolume(thick, { poolId: server.poolId, sizeBytes: 32 * MiB, thin: false, name: "kept" });
    const asVolume = createThrough(RESOURCE_HOOKS.volume, { adopt: thick, pool: server.poolId, sizeBytes: 32 * MiB, thin: true });
    await expect(asVolume).rejects.toThrow(`cannot adopt volume ${thick} as a Volume: it is thick`);
    const asClone = createThrough(RESOURCE_HOOKS.clone, { adopt: thick, sourceVolume: source, thin: true });
    await expect(asClone).rejects.toThrow(`cannot adopt volume ${thick} as a Clone: it is thick`);
    expect((await client.getVolume(thick))?.metadata).toMatchObject({ display_name: "kept", properties: { thin_provision: false } });
  });

  it("takes a Clone whose only difference is its name, and renames it", async () => {
    const source = toHexId(randomUUID());
    const existing = toHexId(randomUUID());
    await client.createVolume(source, { poolId: server.poolId, sizeBytes: 32 * MiB });
    await client.cloneVolume(existing, source, { name: "old-name" });
    const created = await createThrough(RESOURCE_HOOKS.clone, { adopt: existing, sourceVolume: source, name: "new-name" });
    expect(created).toMatchObject({ id: existing });
    expect((await client.getVolume(existing))?.metadata.display_name).toBe("new-name");
  });
});
