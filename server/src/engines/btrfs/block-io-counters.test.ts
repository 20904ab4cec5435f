import { describe, expect, it } from "vitest";
import { parseBlockStat } from "./block-io-counters";

describe("parseBlockStat", () => {
  it("turns /sys/class/block/<dev>/stat into ops, bytes (512-byte sectors) and milliseconds", () => {
    // reads, merges, sectors, ms; writes, merges, sectors, ms; in flight, io ms, weighted ms; discard and flush fields.
    const stat = " 1368099     1939 203639304  4125215  2119719   328038 158043040  7742562        0   754828 11997281     1853        0 2666315792     8394    65960   121108\n";
    expect(parseBlockStat(stat)).toEqual({
      readOps: 1368099, readBytes: 203639304 * 512, readMs: 4125215,
      writeOps: 2119719, writeBytes: 158043040 * 512, writeMs: 7742562,
    });
  });
});
