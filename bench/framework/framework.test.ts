import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BenchmarkOutcome, compared } from "./benchmark";
import { percentile, summarize } from "./latency-stats";
import { formatNumber, renderOutcome, renderReport } from "./markdown-table";
import { replaceLatestTable } from "./readme-table";

describe("latency summaries", () => {
  it("reports nearest-rank percentiles that were actually measured", () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    const s = summarize(samples);
    expect(s).toMatchObject({ count: 10, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
    expect(percentile([42], 0.5)).toBe(42);
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe("ratios and targets", () => {
  it("judges at-least and at-most targets on value / baseline", () => {
    const fast = compared({ case: "c", metric: "m", unit: "MiB/s", value: 90, baseline: { label: "local", value: 100 } }, { atLeast: 1.0, description: "≥ 1.0×" });
    expect(fast.ratio).toBeCloseTo(0.9);
    expect(fast.target).toEqual({ description: "≥ 1.0×", met: false });
    const cheap = compared({ case: "c", metric: "m", unit: "s", value: 11, baseline: { label: "direct", value: 10 } }, { atMost: 1.2, description: "≤ 1.2×" });
    expect(cheap.target?.met).toBe(true);
    expect(compared({ case: "c", metric: "m", unit: "s", value: 1 }).ratio).toBeUndefined();
  });
});

describe("markdown report", () => {
  const outcome = BenchmarkOutcome.parse({
    name: "data-path", title: "4. Data path", seconds: 12.5, notes: ["a note"], charts: [],
    measurements: [
      compared({ case: "seq | read", metric: "throughput", unit: "MiB/s", value: 1500, baseline: { label: "local", value: 1000 } }, { atLeast: 1, description: "≥ 1.0×" }),
      compared({ case: "rand", metric: "throughput", unit: "IOPS", value: 500, baseline: { label: "local", value: 1000 } }, { atLeast: 0.7, description: "≥ 0.7×" }),
    ],
  });

  it("prints figures, baselines, ratios and missed targets, escaping pipes", () => {
    const text = renderOutcome(outcome);
    expect(text).toContain("| seq \\| read | throughput | 1,500 MiB/s | 1,000 MiB/s (local) | 1.50× | met (≥ 1.0×) |");
    expect(text).toContain("MISSED (≥ 0.7×)");
    expect(text).toContain("- a note");
    const report = renderReport({ mode: "quick", startedAt: "2026-11-25T00:00:00Z", machine: "2 cores, 24 GiB", loadAverage: { start: 0.5, end: 3.5 }, cores: 2 }, [outcome]);
    expect(report).toContain("Targets missed: data-path: rand throughput.");
    expect(report).toContain("2 cores, 24 GiB");
    expect(report).toContain("load average 0.5 → 3.5 (**busy machine: figures are noisy**)");
  });

  it("formats numbers to about three significant figures", () => {
    expect(formatNumber(1234.4)).toBe("1,234");
    expect(formatNumber(123.4)).toBe("123");
    expect(formatNumber(12.34)).toBe("12.3");
    expect(formatNumber(1.234)).toBe("1.23");
    expect(formatNumber(0.001234)).toBe("0.00123");
  });

  it("replaces only the README's latest-table section", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-readme-"));
    try {
      const readme = join(dir, "README.md");
      writeFileSync(readme, "intro\n<!-- bench:latest-table:start -->\nold\n<!-- bench:latest-table:end -->\noutro\n");
      replaceLatestTable(readme, "new table\n");
      expect(readFileSync(readme, "utf8")).toBe("intro\n<!-- bench:latest-table:start -->\nnew table\n<!-- bench:latest-table:end -->\noutro\n");
      writeFileSync(readme, "no markers");
      expect(() => {
        replaceLatestTable(readme, "x");
      }).toThrow(/no <!-- bench:latest-table:start -->/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
