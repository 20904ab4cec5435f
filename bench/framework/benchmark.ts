/**
 * What every benchmark is and what it hands back. The results file is parsed with the same zod
 * schemas, so a results file from an older run can be re-printed (`bench/run.ts --print FILE`).
 */
import { z } from "zod";

/** smoke: the quick mode's smallest case, for CI (no timing judged); quick: minutes; full: everything. */
export const Mode = z.enum(["smoke", "quick", "full"]);
export type Mode = z.infer<typeof Mode>;

export const Target = z.object({
  /** e.g. "≥ 1.0× local", "p50 < 50 ms". */
  description: z.string(),
  met: z.boolean(),
});
export type Target = z.infer<typeof Target>;

/** One figure, measured side by side with its baseline where it has one. */
export const Measurement = z.object({
  /** What was run, e.g. "seq 1 MiB read, QD32". */
  case: z.string(),
  /** What was measured, e.g. "throughput", "p50". */
  metric: z.string(),
  unit: z.string(),
  value: z.number(),
  baseline: z.object({ label: z.string(), value: z.number() }).optional(),
  /** value / baseline.value, or as the benchmark defines it (said in its README section). */
  ratio: z.number().optional(),
  target: Target.optional(),
});
export type Measurement = z.infer<typeof Measurement>;

export const ChartSeries = z.object({
  name: z.string(),
  points: z.array(z.tuple([z.number(), z.number()])),
});
export type ChartSeries = z.infer<typeof ChartSeries>;

/** A line chart (x numeric) or a grouped bar chart (categories on x). */
export const Chart = z.object({
  /** File name without extension; written as <results dir>/<file>.png. */
  file: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
  xLabel: z.string(),
  yLabel: z.string(),
  logX: z.boolean().default(false),
  logY: z.boolean().default(false),
  /** A dashed horizontal line, e.g. 1.0 on a ratio chart. */
  referenceY: z.number().optional(),
  /** For bar charts: the category names, x = index into them. */
  categories: z.array(z.string()).optional(),
  series: z.array(ChartSeries),
});
export type Chart = z.input<typeof Chart>;

export const BenchmarkOutcome = z.object({
  name: z.string(),
  title: z.string(),
  /** Seconds the benchmark took, setup included. */
  seconds: z.number(),
  measurements: z.array(Measurement),
  charts: z.array(Chart),
  /** Facts a reader needs to trust the figures (tool versions, settings, what a ratio means). */
  notes: z.array(z.string()),
  /** Set when the benchmark failed; its partial figures are kept. */
  error: z.string().optional(),
  /** Set when a prerequisite (e.g. the pulumi engine) is missing: not a failure in smoke runs. */
  skipped: z.string().optional(),
});
export type BenchmarkOutcome = z.infer<typeof BenchmarkOutcome>;

export interface BenchmarkContext {
  mode: Mode;
  /** A scratch dir of this benchmark's own, removed after the run. */
  workDir: string;
  log(message: string): void;
  /** Called with each figure as soon as it is known, so a failure later keeps it. */
  record(measurement: Measurement): void;
  chart(chart: Chart): void;
  note(text: string): void;
}

export interface Benchmark {
  name: string;
  title: string;
  /** Why it cannot run here (missing tool, component not built yet), or undefined when it can. */
  unavailableReason?(): Promise<string | undefined>;
  run(ctx: BenchmarkContext): Promise<void>;
}

/** Ratio with a target of the form "at least" or "at most"; undefined baseline gives no ratio. */
export function compared(
  fields: Omit<Measurement, "ratio" | "target">,
  target?: { atLeast?: number; atMost?: number; description: string },
): Measurement {
  const ratio = fields.baseline === undefined || fields.baseline.value === 0 ? undefined : fields.value / fields.baseline.value;
  const measurement: Measurement = { ...fields };
  if (ratio !== undefined) measurement.ratio = ratio;
  if (target !== undefined && ratio !== undefined) {
    const met = (target.atLeast === undefined || ratio >= target.atLeast) && (target.atMost === undefined || ratio <= target.atMost);
    measurement.target = { description: target.description, met };
  }
  return measurement;
}
