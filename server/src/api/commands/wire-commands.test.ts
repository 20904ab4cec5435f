/**
 * The api's translation of wire bodies into core's commands, and back for refusals: core blames
 * a property of its command, the client is told the field it sent. The table at the end sends one
 * refusable body per translated operation through the routes (in-memory engines) and checks the
 * wire field each refusal names.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExportAssignBody, VolumeCreateBody, VolumeModifyBody } from "@prophetstor/dpl-provider/wire";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../../test/support/in-memory-server";
import { exportGrant } from "./export-commands";
import { deviceChange } from "./pool-commands";
import { newVolume, volumeChanges, volumeFromSnapshot } from "./volume-commands";
import { wireFieldOf } from "./wire-command";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");

describe("wireFieldOf", () => {
  const fields = { sizeBytes: "metadata.total_capacity", devices: "metadata.devices", "authentication.mutualChap": "exports.x.mutual_chap", authentication: "exports.x.authentication" };

  it("maps a property, keeps indexes and nested keys after the longest mapped prefix", () => {
    expect(wireFieldOf(fields, "sizeBytes")).toBe("metadata.total_capacity");
    expect(wireFieldOf(fields, "devices.2.path")).toBe("metadata.devices.2.path");
    expect(wireFieldOf(fields, "authentication.mutualChap.username")).toBe("exports.x.mutual_chap.username");
    expect(wireFieldOf(fields, "authentication.chap.username")).toBe("exports.x.authentication.chap.username");
  });

  it("names nothing for a property the body did not carry", () => {
    expect(wireFieldOf(fields, "poolId")).toBeUndefined();
  });
});

describe("translations", () => {
  const pool = hexId(1);

  it("treats Cinder's null names as none given, but keeps a modify's null (it resets the name)", () => {
    const created = newVolume(VolumeCreateBody.parse({ metadata: { pool_uuid: pool, total_capacity: MiB, display_name: null } }));
    expect(created.command).toMatchObject({ poolId: pool, sizeBytes: MiB, thin: true, name: undefined });
    const changed = volumeChanges(VolumeModifyBody.parse({ metadata: { display_name: null, total_capacity: 2 * MiB } }));
    expect(changed.command).toMatchObject({ name: null, sizeBytes: 2 * MiB, moveToPoolId: undefined });
  });

  it("reads a copy's snapshot from the last path segment only (the volume segment is the new volume's, D8)", () => {
    const copy = volumeFromSnapshot({ metadata: { snapshot_operation: "copy" }, copy: `/${hexId(7)}/cdmi_snapshots/${hexId(8)}` });
    expect(copy.command).toEqual({ snapshotId: hexId(8), settings: expect.objectContaining({ poolId: undefined }) as unknown });
  });

  it("sets both CHAP directions when authentication is given, and keeps them when it is not", () => {
    const chap = { username: "alice", secret: "twelve-chars" };
    const body = (authentication?: object): ExportAssignBody => ({
      metadata: { export_operation: "assign" },
      exports: { "Network/iSCSI": { permissions: ["iqn.2024-01.org.example:host"], ...(authentication === undefined ? {} : { authentication }) } },
    });
    expect(exportGrant(ExportAssignBody.parse(body({ chap }))).command).toMatchObject({ protocol: "iscsi", lun: 0, authentication: { chap, mutualChap: null } });
    expect(exportGrant(ExportAssignBody.parse(body())).command).toMatchObject({ authentication: undefined });
    expect(exportGrant(ExportAssignBody.parse({
      metadata: { export_operation: "assign" }, exports: { "Network/FC": { target_identifier: "50:00", permissions: ["21:00"] } },
    })).command).toEqual({ protocol: "fc" });
  });

  it("turns each device operation into its own command", () => {
    expect(deviceChange({ device_operation: "remove", device_uuids: ["d1"] }).command).toEqual({ operation: "remove", deviceIds: ["d1"] });
    expect(deviceChange({ device_operation: "replace", device_uuid: "d1", device: { type: "image_file", size: GiB } }).command)
      .toEqual({ operation: "replace", deviceId: "d1", device: { type: "image_file", size: GiB } });
  });
});

describe("refusals name the wire field the client sent", () => {
  const pool = hexId(0x10);
  const volume = hexId(0x11);
  const snapshot = hexId(0x12);
  const missing = hexId(0x99);
  let server: InMemoryServer;

  beforeAll(async () => {
    server = await startInMemoryServer();
    expect((await server.put(`/v1/dpl_pool/${pool}/`, { metadata: { display_name: "taken", properties: {}, devices: [{ type: "image_file", size: 4 * GiB }] } })).statusCode).toBe(201);
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { metadata: { pool_uuid: pool, total_capacity: 64 * MiB } })).statusCode).toBe(201);
    expect((await server.put(`/v1/dpl_volume/${volume}/`, { snapshot })).statusCode).toBe(201);
    const exported = await server.put(`/v1/dpl_volume/${volume}/`, {
      metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: ["iqn.2024-01.org.example:host"] } },
    });
    expect(exported.statusCode).toBe(200);
  });
  afterAll(async () => {
    await server.close();
  });

  const snapshotOf = (id: string): string => `/${missing}/cdmi_snapshots/${id}`;
  const refusals: { what: string; path: string; body: object; field: string }[] = [
    { what: "a volume in a pool that does not exist", path: `/v1/dpl_volume/${hexId(0x20)}/`, body: { metadata: { pool_uuid: missing, total_capacity: MiB } }, field: "metadata.pool_uuid" },
    { what: "a copy of a snapshot that does not exist", path: `/v1/dpl_volume/${hexId(0x21)}/`, body: { metadata: { snapshot_operation: "copy" }, copy: snapshotOf(missing) }, field: "copy" },
    { what: "a copy smaller than its snapshot", path: `/v1/dpl_volume/${hexId(0x22)}/`, body: { metadata: { snapshot_operation: "copy", total_capacity: MiB }, copy: snapshotOf(snapshot) }, field: "metadata.total_capacity" },
    { what: "a spawn of a snapshot that does not exist", path: `/v1/dpl_volume/${hexId(0x23)}/`, body: { metadata: { snapshot_operation: "spawn" }, copy: snapshotOf(missing) }, field: "copy" },
    { what: "a clone of a volume that does not exist", path: `/v1/dpl_volume/${hexId(0x24)}/`, body: { metadata: { snapshot_operation: "clone" }, copy: missing }, field: "copy" },
    { what: "a clone into a pool that does not exist", path: `/v1/dpl_volume/${hexId(0x25)}/`, body: { metadata: { snapshot_operation: "clone", pool_uuid: missing }, copy: volume }, field: "metadata.pool_uuid" },
    { what: "a shrink", path: `/v1/dpl_volume/${volume}/`, body: { metadata: { total_capacity: MiB } }, field: "metadata.total_capacity" },
    { what: "a move to a pool that does not exist", path: `/v1/dpl_volume/${volume}/`, body: { metadata: { move_to_pool: missing } }, field: "metadata.move_to_pool" },
    { what: "a snapshot id that is a volume's", path: `/v1/dpl_volume/${volume}/`, body: { snapshot: volume }, field: "snapshot" },
    { what: "a rollback to a snapshot that does not exist", path: `/v1/dpl_volume/${volume}/`, body: { copy: snapshotOf(missing) }, field: "copy" },
    {
      what: "an export on another LUN", path: `/v1/dpl_volume/${volume}/`,
      body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 5, permissions: ["iqn.2024-01.org.example:b"] } } },
      field: "exports.Network/iSCSI.logical_unit_number",
    },
    {
      what: "an FC export", path: `/v1/dpl_volume/${volume}/`,
      body: { metadata: { export_operation: "assign" }, exports: { "Network/FC": { target_identifier: "50:00", permissions: ["21:00"] } } },
      field: "exports.Network/FC",
    },
    {
      what: "an unassign naming another target", path: `/v1/dpl_volume/${volume}/`,
      body: { metadata: { export_operation: "unassign" }, exports: { "Network/iSCSI": { target_identifier: "iqn.2024-01.org.example:other", permissions: ["iqn.2024-01.org.example:host"] } } },
      field: "exports.Network/iSCSI.target_identifier",
    },
    {
      what: "a raid5 pool without force", path: `/v1/dpl_pool/${hexId(0x30)}/`,
      body: { metadata: { display_name: "r5", properties: { raid_level: "raid5" }, devices: [{ type: "image_file", size: GiB }, { type: "image_file", size: GiB }] } },
      field: "metadata.properties.force_raid56",
    },
    {
      what: "a pool on a block device off the allow-list", path: `/v1/dpl_pool/${hexId(0x31)}/`,
      body: { metadata: { display_name: "bd", properties: {}, devices: [{ type: "block_device", path: "/dev/sdz" }] } }, field: "metadata.devices.0.path",
    },
    { what: "a pool named like another", path: `/v1/dpl_pool/${hexId(0x32)}/`, body: { metadata: { display_name: "taken", properties: {}, devices: [{ type: "image_file", size: GiB }] } }, field: "metadata.display_name" },
    { what: "removing a device the pool does not have", path: `/v1/dpl_pool/${pool}/`, body: { metadata: { device_operation: "remove", device_uuids: ["nope"] } }, field: "metadata.device_uuids.0" },
    { what: "a group of a volume that does not exist", path: `/v1/dpl_volgroup/${hexId(0x40)}/`, body: { metadata: { volume: [missing] } }, field: "metadata.volume.0" },
    { what: "an image of a volume that does not exist", path: `/v1/dpl_image/${hexId(0x50)}/`, body: { metadata: { source_volume: missing, format: "raw" } }, field: "metadata.source_volume" },
    { what: "an FC target", path: `/v1/dpl_export/${hexId(0x60)}/`, body: { metadata: { type: "target", protocol: "fc" } }, field: "metadata.protocol" },
  ];

  it.each(refusals)("$what: $field", async ({ path, body, field }) => {
    const refused = await server.put(path, body);
    expect(refused.statusCode, refused.body).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    expect(refused.json()).toMatchObject({ error: { field } });
  });
});
