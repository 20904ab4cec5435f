import { describe, expect, it } from "vitest";
import { nextRunAt, scheduleEntryFor } from "./maintenance-schedule";

describe("nextRunAt", () => {
  const entry = { intervalSeconds: 60, setAt: 1_000_000 };

  it("is one interval after the schedule was set when nothing ran since", () => {
    expect(nextRunAt(entry, null)).toBe(1_060_000);
    // A run before the schedule existed does not make the first scheduled one due earlier.
    expect(nextRunAt(entry, 500_000)).toBe(1_060_000);
  });

  it("is one interval after the last run finished", () => {
    expect(nextRunAt(entry, 1_045_000)).toBe(1_105_000);
    expect(nextRunAt({ intervalSeconds: 86_400, setAt: 0 }, 1_000)).toBe(86_401_000);
  });
});

describe("scheduleEntryFor", () => {
  const current = { intervalSeconds: 60, setAt: 5 };

  it("keeps the set time when the interval is unchanged (a repeated PUT moves nothing)", () => {
    expect(scheduleEntryFor(current, 60, 99)).toBe(current);
  });

  it("counts a new interval from now, and null turns the schedule off", () => {
    expect(scheduleEntryFor(current, 30, 99)).toEqual({ intervalSeconds: 30, setAt: 99 });
    expect(scheduleEntryFor(undefined, 30, 99)).toEqual({ intervalSeconds: 30, setAt: 99 });
    expect(scheduleEntryFor(current, null, 99)).toBeNull();
  });
});
