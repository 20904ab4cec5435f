import { describe, expect, it } from "vitest";
import { formatInterval, parseInterval } from "./durations";

describe("parseInterval", () => {
  it("reads units, combinations and off", () => {
    expect(parseInterval("--scrub-every", "7d")).toBe(604_800);
    expect(parseInterval("--scrub-every", "1d12h")).toBe(129_600);
    expect(parseInterval("--scrub-every", "2w")).toBe(1_209_600);
    expect(parseInterval("--dedupe-every", "45s")).toBe(45);
    expect(parseInterval("--dedupe-every", "off")).toBeNull();
  });

  it("refuses anything else, naming the option", () => {
    expect(() => parseInterval("--scrub-every", "7 days")).toThrow(/^--scrub-every: "7 days" is not a duration/);
    expect(() => parseInterval("--dedupe-every", "")).toThrow(/^--dedupe-every/);
    expect(() => parseInterval("--dedupe-every", "10")).toThrow(/^--dedupe-every/);
  });
});

describe("formatInterval", () => {
  it("prints the largest units first", () => {
    expect(formatInterval(604_800)).toBe("7d");
    expect(formatInterval(129_600)).toBe("1d12h");
    expect(formatInterval(90)).toBe("1m30s");
    expect(formatInterval(null)).toBe("-");
  });
});
