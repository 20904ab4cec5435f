import { describe, expect, it } from "vitest";
import { classifyVolumePut, snapshotIdOfPath, toHexId } from "./index";

const vol = "d827e23d403f4f12bb208a6fec208fd8";
const snap = "fe2dbc515810451dab2f8c8a48d15bee";
const pool = "ac33fc6e417440d5a1ef27d7231e1cc4";

// The bodies the historical client sends (dpl-protocol.md §3), one per operation.
const historicalBodies: Array<[string, unknown]> = [
  ["create", { metadata: { display_name: "v", display_description: null, pool_uuid: pool, total_capacity: 2 ** 30, maximum_snapshot: 1024, properties: { thin_provision: true } } }],
  ["modify", { metadata: { display_name: "v", display_description: "d", total_capacity: 2 * 2 ** 30, maximum_snapshot: 1024 } }],
  ["snapshot", { metadata: { display_name: "s", display_description: "d" }, snapshot: snap }],
  ["copy", { metadata: { snapshot_operation: "copy", display_name: "c", display_description: null, pool_uuid: pool, maximum_snapshot: 1024, properties: { thin_provision: true } }, copy: `/${vol}/cdmi_snapshots/${snap}` }],
  ["spawn", { metadata: { snapshot_operation: "spawn", display_name: "s", display_description: null }, copy: `/${vol}/cdmi_snapshots/${snap}` }],
  ["clone", { metadata: { snapshot_operation: "clone", display_name: "c", display_description: null, pool_uuid: pool, total_capacity: 2 ** 30, maximum_snapshot: 1024, properties: { thin_provision: false } }, copy: vol }],
  ["rollback", { copy: `/${vol}/cdmi_snapshots/${snap}` }],
  ["assign", { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { logical_unit_number: 0, logical_unit_name: "d827e23d-403f-4f12-bb20-8a6fec208fd8", permissions: ["iqn.2013-08.org.debian:01:aaaaaaaa"], portals: ["172.31.1.210:3260"] } } }],
  ["unassign", { metadata: { export_operation: "unassign" }, exports: { "Network/iSCSI": { target_identifier: "", permissions: ["iqn.2013-08.org.debian:01:AAAAaaaa"] } } }],
  ["assign", { metadata: { export_operation: "assign" }, exports: { "Network/FC": { target_identifier: "50:06:01:60:3b:20:13:c8", logical_unit_number: -1, logical_unit_name: "volume-x", permissions: ["21:00:00:24:ff:35:a4:3c"] } } }],
];

describe("classifyVolumePut", () => {
  it.each(historicalBodies)("recognises the historical %s body and its schema accepts it", (op, body) => {
    const put = classifyVolumePut(body);
    expect(put?.op).toBe(op);
    const parsed = put?.schema.safeParse(body);
    expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
  });

  it("returns undefined for bodies that name no operation", () => {
    expect(classifyVolumePut(null)).toBeUndefined();
    expect(classifyVolumePut([])).toBeUndefined();
    expect(classifyVolumePut({})).toBeUndefined();
    expect(classifyVolumePut({ metadata: { export_operation: "explode" } })).toBeUndefined();
  });

  it("names the offending field of a bad create", () => {
    const body = { metadata: { pool_uuid: pool, total_capacity: -1, display_name: "a;rm -rf /" } };
    const put = classifyVolumePut(body);
    const result = put?.schema.safeParse(body);
    expect(result?.success).toBe(false);
    const paths = result?.error?.issues.map((i) => i.path.join("."));
    expect(paths).toContain("metadata.total_capacity");
    expect(paths).toContain("metadata.display_name");
  });

  it("refuses a 4 KB name", () => {
    const body = { metadata: { pool_uuid: pool, total_capacity: 1, display_name: "x".repeat(4096) } };
    expect(classifyVolumePut(body)?.schema.safeParse(body).success).toBe(false);
  });
});

describe("ids and paths", () => {
  it("strips hyphens and lower-cases UUIDs", () => {
    expect(toHexId("D827E23D-403F-4F12-BB20-8A6FEC208FD8")).toBe(vol);
    expect(() => toHexId("../../etc/passwd")).toThrow();
  });
  it("takes the snapshot id from the last path segment (the volume segment is not trusted)", () => {
    expect(snapshotIdOfPath(`/${vol}/cdmi_snapshots/${snap}`)).toBe(snap);
    expect(snapshotIdOfPath(`/v1/dpl_volume/${vol}/cdmi_snapshots/${snap}/`)).toBe(snap);
  });
});
