/**
 * Exports through the HTTP routes on in-memory engines (no root): targets follow the records,
 * tgtd's shared CHAP accounts are never re-keyed, a tgtd restart re-applies every export, and a
 * long job on one volume holds back no other volume's export.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata, volumeModifyMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const poolA = hexId(0xa1);
const poolB = hexId(0xb1);
const initiator = "iqn.2025-01.org.opendpl.test:host";

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer();
  for (const [poolId, name] of [[poolA, "a"], [poolB, "b"]] as const) {
    const created = await server.put(`/v1/dpl_pool/${poolId}/`, { metadata: poolCreateMetadata({ name, devices: [{ type: "image_file", size: 4 * GiB }] }) });
    expect(created.statusCode, created.body).toBeLessThan(300);
  }
});
afterEach(async () => {
  await server.close();
});

async function createVolume(volumeId: string): Promise<void> {
  const created = await server.put(`/v1/dpl_volume/${volumeId}/`, { metadata: volumeCreateMetadata({ poolId: poolA, sizeBytes: 64 * MiB }) });
  expect(created.statusCode, created.body).toBeLessThan(300);
}

function assign(volumeId: string, chap?: { username: string; secret: string }): ReturnType<InMemoryServer["put"]> {
  return server.put(`/v1/dpl_volume/${volumeId}/`, {
    metadata: { export_operation: "assign" },
    exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: [initiator], ...(chap === undefined ? {} : { authentication: { chap } }) } },
  });
}

/** The target tgtd would hold for the volume, if any. */
function targetOf(volumeId: string): { tid: number; backingPath: string; initiators: string[]; chap?: { secret: string } } | undefined {
  return [...server.targets.targets.values()].find((spec) => spec.iqn.endsWith(`:${volumeId}`));
}

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("exports on in-memory engines", () => {
  it("make a target holding the initiator, and unassigning the last initiator removes it", async () => {
    const volume = hexId(1);
    await createVolume(volume);
    expect((await assign(volume)).statusCode).toBe(200);
    expect(targetOf(volume)?.initiators).toEqual([initiator]);
    const unassigned = await server.put(`/v1/dpl_volume/${volume}/`, {
      metadata: { export_operation: "unassign" }, exports: { "Network/iSCSI": { target_identifier: "", permissions: [initiator.toUpperCase()] } },
    });
    expect(unassigned.statusCode, unassigned.body).toBe(200);
    expect(targetOf(volume)).toBeUndefined();
  });

  it("refuse a CHAP user another export holds with another secret, leaving that export as it was", async () => {
    const [first, second] = [hexId(2), hexId(3)];
    await createVolume(first);
    await createVolume(second);
    expect((await assign(first, { username: "shared", secret: "first-secret-1" })).statusCode).toBe(200);
    const clash = await assign(second, { username: "shared", secret: "other-secret-2" });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ error: { code: "CONFLICT", field: "exports.Network/iSCSI.authentication.chap.username" } });
    expect(targetOf(first)?.chap?.secret).toBe("first-secret-1");
    expect(targetOf(second)).toBeUndefined();
  });

  it("come back after tgtd dies, every one of them", async () => {
    const volumes = [hexId(4), hexId(5), hexId(6)];
    for (const volume of volumes) {
      await createVolume(volume);
      expect((await assign(volume)).statusCode).toBe(200);
    }
    server.targets.crash();
    await until("every export re-applied", () => volumes.every((volume) => targetOf(volume) !== undefined));
  });

  it("come back after tgtd dies while another volume's move is held mid-copy; the moving one only once it landed", async () => {
    const [staying, moving] = [hexId(7), hexId(8)];
    for (const volume of [staying, moving]) {
      await createVolume(volume);
      expect((await assign(volume)).statusCode).toBe(200);
    }
    const copy = server.disks.hold("copyAcrossPools");
    const move = server.put(`/v1/dpl_volume/${moving}/`, { metadata: volumeModifyMetadata({ moveToPool: poolB }) });
    await copy.reached;
    // Withdrawn for the copy: no initiator may write to the copy being left behind.
    expect(targetOf(moving)).toBeUndefined();
    server.targets.crash();
    try {
      await until("the staying volume's export re-applied while the move is held", () => targetOf(staying) !== undefined);
      expect(targetOf(moving)).toBeUndefined();
    } finally {
      copy.open();
    }
    const moved = await move;
    expect(moved.statusCode, moved.body).toBe(200);
    expect(targetOf(moving)?.backingPath).toBe(`/memory/pools/${poolB}/volumes/${moving}/data`);
  });
});
