import { describe, expect, it } from "vitest";
import { parseLunStats } from "./tgtadm-show";

// Printed by tgt 1.0.85's `tgtadm --mode system --op stat` with one initiator logged in to target 1.
const STAT_OUTPUT = `tgt lun sid rd_subm(bytes,cmds) rd_done(bytes,cmds) wr_subm(bytes,cmds) wr_done(bytes,cmds) errs
  1   0   3            0      0            0      0            0      0            0      0    0
  1   1   3          749      9          749      9      1048576      1      1048576      1    1
`;

describe("parseLunStats", () => {
  it("keeps the completed counts of every LUN but the controller, per session", () => {
    expect(parseLunStats(STAT_OUTPUT)).toEqual([
      { tid: 1, lun: 1, sid: 3, readOps: 9, readBytes: 749, writeOps: 1, writeBytes: 1048576, errors: 1 },
    ]);
  });

  it("reads nothing from the header alone (no session logged in)", () => {
    expect(parseLunStats(STAT_OUTPUT.split("\n")[0] ?? "")).toEqual([]);
  });
});
