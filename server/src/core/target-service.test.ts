/**
 * Target records of `dpl_export` through the HTTP routes on in-memory engines (no root): made
 * with a chosen or a server-chosen IQN, made again idempotently, refused with another address or
 * for FC (naming the field), listed with volume exports beside them, and deleted.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TargetListReply, TargetReply } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata, targetCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const target = hexId(0x30);

let server: InMemoryServer;

const put = (id: string, spec: Parameters<typeof targetCreateMetadata>[0]): ReturnType<InMemoryServer["put"]> =>
  server.put(`/v1/dpl_export/${id}/`, { metadata: targetCreateMetadata(spec) });

beforeEach(async () => {
  server = await startInMemoryServer();
});
afterEach(async () => {
  await server.close();
});

describe("target records", () => {
  it("take the server's IQN unless one is given, and are made again idempotently", async () => {
    const made = await put(target, { protocol: "iscsi", name: "shared" });
    expect(made.statusCode, made.body).toBe(200);
    expect(TargetReply.parse(made.json()).metadata).toMatchObject({ address: `iqn.2025-01.org.opendpl.test:target.${target}`, display_name: "shared", volumes: [] });
    expect((await put(target, { protocol: "iscsi", name: "shared" })).statusCode).toBe(200);
    const named = await put(hexId(0x31), { protocol: "iscsi", address: "iqn.2026-01.com.example:lun-pool" });
    expect(TargetReply.parse(named.json()).metadata.address).toBe("iqn.2026-01.com.example:lun-pool");
  });

  it("refuse another address for an existing id and FC, naming the problem, keeping the record", async () => {
    await put(target, { protocol: "iscsi" });
    const other = await put(target, { protocol: "iscsi", address: "iqn.2026-01.com.example:other" });
    expect(other.statusCode).toBe(409);
    expect(other.body).toMatch(/already exists with a different address/);
    const fc = await put(hexId(0x32), { protocol: "fc", address: "5001438012345678" });
    expect(fc.statusCode).toBeGreaterThanOrEqual(400);
    expect(fc.body).toMatch(/metadata\.protocol|no FC target engine/);
    const detail = await server.request({ method: "GET", url: `/v1/dpl_export/${target}/` });
    expect(TargetReply.parse(detail.json()).metadata.address).toBe(`iqn.2025-01.org.opendpl.test:target.${target}`);
  });

  it("are listed beside the volume exports, and deleted", async () => {
    const pool = hexId(0x33);
    const volume = hexId(0x34);
    await server.put(`/v1/dpl_pool/${pool}/`, { metadata: poolCreateMetadata({ name: "t", devices: [{ type: "image_file", size: 4 * GiB }] }) });
    await server.put(`/v1/dpl_volume/${volume}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes: 64 * MiB }) });
    await server.put(`/v1/dpl_volume/${volume}/`, {
      metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: ["iqn.2025-01.org.opendpl.test:host"] } },
    });
    await put(target, { protocol: "iscsi" });
    const listed = TargetListReply.parse((await server.request({ method: "GET", url: "/v1/dpl_export/?type=target" })).json());
    expect(listed.children.map(([id]) => id)).toEqual(expect.arrayContaining([target]));
    expect(listed.children.length).toBe(2);
    expect((await server.request({ method: "DELETE", url: `/v1/dpl_export/${target}/` })).statusCode).toBe(200);
    expect((await server.request({ method: "GET", url: `/v1/dpl_export/${target}/` })).statusCode).toBe(404);
  });
});
