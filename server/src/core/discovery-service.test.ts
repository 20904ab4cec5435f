/**
 * Discovery on in-memory engines (no root): only the allow-listed block devices are shown, with
 * what the kernel says of them and the pool that holds each; a listed path with no device says so.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiskListReply, SystemReply } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer({ allowedBlockDevices: ["/dev/disk-a", "/dev/disk-b", "/dev/unplugged"] });
  server.disks.blockDevices.set("/dev/disk-a", { sizeBytes: 4 * GiB, model: "QEMU HARDDISK", rotational: true });
  server.disks.blockDevices.set("/dev/disk-b", { sizeBytes: 8 * GiB, model: null, rotational: false });
  // A device the host has but the operator did not list is never shown.
  server.disks.blockDevices.set("/dev/sda", { sizeBytes: 100 * GiB, model: "boot disk", rotational: false });
});
afterEach(async () => {
  await server.close();
});

async function disks(): Promise<DiskListReply["metadata"]["disks"]> {
  const reply = await server.request({ method: "GET", url: "/v1/dpl_disk/" });
  expect(reply.statusCode).toBe(200);
  return DiskListReply.parse(reply.json()).metadata.disks;
}

describe("discovery", () => {
  it("lists the allow-listed devices only, with size, model and rotational, and the pool holding each", async () => {
    expect(await disks()).toEqual([
      { path: "/dev/disk-a", size_bytes: 4 * GiB, model: "QEMU HARDDISK", rotational: true, pool_uuid: null },
      { path: "/dev/disk-b", size_bytes: 8 * GiB, model: null, rotational: false, pool_uuid: null },
      { path: "/dev/unplugged", size_bytes: null, model: null, rotational: null, pool_uuid: null },
    ]);
    const pool = "d1".padEnd(32, "0");
    const created = await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "on-disk-b", devices: [{ type: "block_device", path: "/dev/disk-b" }] }) });
    expect(created.statusCode, created.body).toBe(201);
    expect((await disks()).map((disk) => [disk.path, disk.pool_uuid])).toEqual([["/dev/disk-a", null], ["/dev/disk-b", pool], ["/dev/unplugged", null]]);
  });

  it("reports the portals and what the server can do, FC included (none here)", async () => {
    const system = SystemReply.parse((await server.request({ method: "GET", url: "/v1/dpl_system/" })).json()).metadata;
    expect(system.iscsi_portals).toEqual(["127.0.0.1:3260"]);
    expect(system.capabilities).toMatchObject({ protocols: ["iscsi"], cache_modes: ["writeback", "writethrough", "direct"] });
  });
});
