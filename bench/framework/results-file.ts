/** The machine-readable record of one run, and where runs are kept (bench/results/, gitignored). */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { BenchmarkOutcome, Mode } from "./benchmark";

export const RunResults = z.object({
  schema: z.literal("dpl-bench/1"),
  mode: Mode,
  startedAt: z.string(),
  finishedAt: z.string(),
  machine: z.string(),
  /** 1-minute load average when the run started and ended: above the core count, figures are noisy. */
  loadAverage: z.object({ start: z.number(), end: z.number() }),
  outcomes: z.array(BenchmarkOutcome),
});
export type RunResults = z.infer<typeof RunResults>;

export const defaultResultsRoot = resolve(__dirname, "..", "results");

/** A fresh directory for one run: bench/results/<mode>-<timestamp>/. */
export function makeRunDir(root: string, mode: Mode, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const dir = join(root, `${mode}-${stamp}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes results.json in the run dir and a copy as <root>/latest-<mode>.json. */
export function writeResults(root: string, runDir: string, results: RunResults): string {
  const text = JSON.stringify(results, null, 2) + "\n";
  const path = join(runDir, "results.json");
  writeFileSync(path, text);
  writeFileSync(join(root, `latest-${results.mode}.json`), text);
  return path;
}

export function readResults(path: string): RunResults {
  return RunResults.parse(JSON.parse(readFileSync(path, "utf8")));
}
