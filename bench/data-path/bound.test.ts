import { describe, expect, it } from "vitest";
import { combinedBound } from "./benchmark";

describe("the data path's bound for a co-located initiator", () => {
  it("adds the times per request of the disk and the transport", () => {
    // Figures measured by hand on this machine (issue 18): local 42,459 IOPS, null backing store 44,765.
    expect(combinedBound(42_459, 44_765)).toBeCloseTo(21_791, 0);
    // A transport far faster than the disk leaves the disk's figure; two equal ones halve it.
    expect(combinedBound(1_000, 1e12)).toBeCloseTo(1_000, 3);
    expect(combinedBound(500, 500)).toBe(250);
  });
});
