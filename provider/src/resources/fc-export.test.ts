import { describe, expect, it } from "vitest";
import type { VolumeReply } from "../wire";
import { fcLunOf } from "./fc-export";
import { RESOURCE_HOOKS } from "./registry";
import { compressionAlgorithm, requireSupported } from "./server-capabilities";

const fcExportHooks = RESOURCE_HOOKS.fcExport;

const VOLUME = "c".repeat(32);
const TARGET = "50:01:43:80:12:34:56:78";
const HOST_PORT = "10:00:00:00:c9:12:34:56";

function volumeWithFc(permissions: Array<Record<string, number>>): VolumeReply {
  return { exports: { "Network/FC": [{ target_identifier: TARGET, permissions }] } } as unknown as VolumeReply;
}

describe("FCExport", () => {
  it("treats LUN 0 as assigned (the historical client's D25 took it for 'not assigned')", () => {
    expect(fcLunOf(volumeWithFc([{ [HOST_PORT]: 0 }]), TARGET, [HOST_PORT])).toBe(0);
    expect(fcLunOf(volumeWithFc([{ [HOST_PORT]: 3 }]), "5001438012345678", ["10000000C9123456"])).toBe(3);
    expect(fcLunOf(volumeWithFc([{ "10:00:00:00:c9:00:00:01": 0 }]), TARGET, [HOST_PORT])).toBeUndefined();
  });

  it("checks WWPNs and LUNs, naming the field", async () => {
    const ok = await fcExportHooks.check({}, { volume: VOLUME, targetWwpn: "5001438012345678", initiatorWwpns: [HOST_PORT], lun: 0 });
    expect(ok.failures).toBeUndefined();
    const bad = await fcExportHooks.check({}, { volume: VOLUME, targetWwpn: "50:01", initiatorWwpns: [], lun: 256 });
    expect(bad.failures?.map((f) => f.property).sort()).toEqual(["initiatorWwpns", "lun", "targetWwpn"]);
  });

  it("replaces on a new target or LUN, updates in place for initiators, ignoring WWPN spelling", async () => {
    const olds = { volume: VOLUME, targetWwpn: TARGET, initiatorWwpns: [HOST_PORT] };
    expect(await fcExportHooks.diff("x", olds, { ...olds, targetWwpn: "5001438012345678" })).toMatchObject({ changes: false, replaces: [] });
    expect(await fcExportHooks.diff("x", olds, { ...olds, lun: 4 })).toMatchObject({ changes: true, replaces: ["lun"] });
    expect(await fcExportHooks.diff("x", olds, { ...olds, initiatorWwpns: [HOST_PORT, "10:00:00:00:c9:00:00:02"] })).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("server capabilities", () => {
  it("refuses what the server does not list, naming it and what it supports", () => {
    expect(() => {
      requireSupported("RAID level", "raid6", ["single", "raid1"], "https://dpl:8357");
    }).toThrow(
      'the DPL server at https://dpl:8357 does not support RAID level "raid6" (it supports: single, raid1)',
    );
    expect(() => {
      requireSupported("RAID level", "raid1", ["single", "raid1"], "https://dpl:8357");
    }).not.toThrow();
    expect(compressionAlgorithm("zstd:3")).toBe("zstd");
  });
});
