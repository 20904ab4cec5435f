import { describe, expect, it } from "vitest";
import { CommandFailedError } from "../command";
import { dedupeProgressOf, foundNoDedupeCandidates, parseCompsizeTotal, parseScrubCounters } from "./btrfs-maintenance-engine";

// Output of btrfs-progs v6.2, compsize 1.5 and duperemove 0.11 as captured on this machine.
const SCRUB = `scrub done for f8d3b64f-f51f-4c18-b189-566dde66eab6
Scrub started:    Wed Nov 25 14:56:13 2026
Status:           finished
Duration:         0:00:00
\tdata_extents_scrubbed: 320
\tdata_bytes_scrubbed: 20971520
\ttree_bytes_scrubbed: 360448
\tread_errors: 0
\tcsum_errors: 3
\tcorrected_errors: 2
\tuncorrectable_errors: 1
\tlast_physical: 126877696
`;

describe("btrfs maintenance output parsing", () => {
  it("reads scrub's raw counters, summing devices", () => {
    const counters = parseScrubCounters(`${SCRUB}${SCRUB}`);
    expect(counters.data_bytes_scrubbed).toBe(2 * 20971520);
    expect(counters.csum_errors).toBe(6);
    expect(counters.corrected_errors).toBe(4);
    expect(counters.uncorrectable_errors).toBe(2);
  });

  it("reads compsize's TOTAL line, and nothing when no extent exists", () => {
    const out = "Processed 2 files, 1 regular extents (2 refs), 0 inline.\nType       Perc     Disk Usage   Uncompressed Referenced  \nTOTAL        6%      4194304     67108864     67108864       \nzstd         6%      4194304     67108864     67108864       \n";
    expect(parseCompsizeTotal(out)).toEqual({ diskBytes: 4194304, uncompressedBytes: 67108864 });
    expect(parseCompsizeTotal("Processed 1 file, 0 regular extents (0 refs), 0 inline.\n")).toBeUndefined();
  });

  it("maps duperemove's hashing to the first half of the job and its dedupe steps to the second", () => {
    expect(dedupeProgressOf("[1/2] (50.00%) csum: /pool/volumes/a/data")).toEqual({ fraction: 0.25, filesScanned: 1 });
    expect(dedupeProgressOf("[0x55989d4a50c0] (1/4) Try to dedupe extents with id cfd5bdf4")).toEqual({ fraction: 0.625 });
    expect(dedupeProgressOf("Gathering file list...")).toBeUndefined();
  });
});

describe("foundNoDedupeCandidates", () => {
  it("tells duperemove's exit for a pool with nothing to hash from real failures", () => {
    // duperemove 0.11 on a pool without volumes: exit 22 and this line.
    expect(foundNoDedupeCandidates(new CommandFailedError("duperemove", 22, "No dedupe candidates found.\n", ""))).toBe(true);
    expect(foundNoDedupeCandidates(new CommandFailedError("duperemove", 1, "Error: could not open hashfile\n", ""))).toBe(false);
    expect(foundNoDedupeCandidates(new Error("No dedupe candidates found."))).toBe(false);
  });
});
