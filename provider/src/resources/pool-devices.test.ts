import { describe, expect, it } from "vitest";
import { planDeviceChanges, sameDevices } from "./pool-devices";

const GiB = 2 ** 30;
const errors = { read: 0, write: 0, flush: 0, corruption: 0, generation: 0 };
const image = (id: string, size: number, state = "Online") => ({ device_uuid: id, type: "image_file" as const, path: `/s/${id}.img`, size, state, errors });
const block = (id: string, path: string) => ({ device_uuid: id, type: "block_device" as const, path, size: 8 * GiB, state: "Online", errors });

describe("planDeviceChanges", () => {
  it("keeps devices the program still names, whatever their order", () => {
    expect(planDeviceChanges([image("a", GiB), block("b", "/dev/sdb")], [{ type: "block_device", path: "/dev/sdb" }, { type: "image_file", size: GiB }])).toEqual([]);
  });

  it("adds new devices and removes dropped ones, adding first", () => {
    expect(planDeviceChanges([image("a", 2 * GiB), image("b", 2 * GiB)], [{ type: "image_file", size: 2 * GiB }, { type: "image_file", size: GiB }, { type: "image_file", size: GiB }]))
      .toEqual([{ device_operation: "add", devices: [{ type: "image_file", size: GiB }, { type: "image_file", size: GiB }] }, { device_operation: "remove", device_uuids: ["b"] }]);
    expect(planDeviceChanges([image("a", GiB), image("b", GiB), image("c", GiB)], [{ type: "image_file", size: GiB }]))
      .toEqual([{ device_operation: "remove", device_uuids: ["b", "c"] }]);
  });

  it("replaces a dropped device by a new one at least as large, a missing one first", () => {
    expect(planDeviceChanges([image("a", GiB), image("b", GiB, "Missing")], [{ type: "image_file", size: GiB }, { type: "image_file", size: 2 * GiB }]))
      .toEqual([{ device_operation: "replace", device_uuid: "b", device: { type: "image_file", size: 2 * GiB } }]);
    // Two equal devices, one missing: the working one is the one kept.
    expect(planDeviceChanges([image("a", GiB, "Missing"), image("b", GiB)], [{ type: "image_file", size: GiB }, { type: "block_device", path: "/dev/sdc" }]))
      .toEqual([{ device_operation: "replace", device_uuid: "a", device: { type: "block_device", path: "/dev/sdc" } }]);
  });

  it("never replaces onto a smaller image file", () => {
    expect(planDeviceChanges([image("a", GiB), image("b", 2 * GiB)], [{ type: "image_file", size: GiB }, { type: "image_file", size: GiB }]))
      .toEqual([{ device_operation: "add", devices: [{ type: "image_file", size: GiB }] }, { device_operation: "remove", device_uuids: ["b"] }]);
  });
});

describe("sameDevices", () => {
  it("compares as multisets", () => {
    expect(sameDevices([{ type: "image_file", size: 1 }, { type: "image_file", size: 1 }], [{ type: "image_file", size: 1 }])).toBe(false);
    expect(sameDevices([{ type: "image_file", size: 1 }, { type: "block_device", path: "/dev/x" }], [{ type: "block_device", path: "/dev/x" }, { type: "image_file", size: 1 }])).toBe(true);
  });
});
