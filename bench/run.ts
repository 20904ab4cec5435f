/**
 * The benchmark suite's one command:
 *
 *   npm run bench -- --quick            a few minutes on 2 cores (the README's table)
 *   npm run bench -- --full             every size, the tgtd tuning matrix, scale to 10,000
 *   npm run bench -- --smoke            the quick mode's smallest case (CI; no timing judged)
 *   npm run bench -- --quick --only data-path,scale
 *   npm run bench -- --print bench/results/latest-quick.json
 *
 * Prints a markdown table per benchmark, writes results.json, report.md and PNG charts under
 * bench/results/<mode>-<time>/, and exits non-zero when any benchmark failed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import type { Benchmark, BenchmarkOutcome, Chart, Measurement, Mode } from "./framework/benchmark";
import { releaseOnSignal } from "./framework/cleanup-on-signal";
import { drawChart, gnuplotAvailable } from "./framework/gnuplot-charts";
import { describeMachine } from "./framework/machine-size";
import { renderOutcome, renderReport, type RunHeader } from "./framework/markdown-table";
import { replaceLatestTable } from "./framework/readme-table";
import { defaultResultsRoot, makeRunDir, readResults, writeResults, type RunResults } from "./framework/results-file";
import { allBenchmarks } from "./suite";

const repoRoot = resolve(__dirname, "..");
const scratchRoot = join(repoRoot, ".work");

interface CliOptions {
  mode: Mode;
  only?: string[];
  resultsDir: string;
  print?: string;
  updateReadme: boolean;
  skipUnavailable: boolean;
}

function parseCli(argv: string[]): CliOptions {
  const program = new Command()
    .name("bench")
    .description("DPL provider and server benchmarks, each against its baseline in the same run")
    .addOption(new Option("--smoke", "the quick mode's smallest case (CI; no timing judged)").conflicts(["quick", "full"]))
    .addOption(new Option("--quick", "a few minutes on 2 cores (default)").conflicts(["full"]))
    .addOption(new Option("--full", "every size, the tgtd tuning matrix, scale to 10,000"))
    .option("--only <names>", `comma-separated subset of: ${allBenchmarks.map((b) => b.name).join(", ")}`)
    .option("--results-dir <dir>", "where runs are written", defaultResultsRoot)
    .option("--print <results.json>", "print the tables of an earlier run and exit")
    .option("--update-readme", "put this run's tables in README.md and bench/README.md", false)
    .option("--skip-unavailable", "skip (instead of fail) a benchmark whose prerequisites are missing", false)
    .parse(argv);
  const o = program.opts<{ smoke?: boolean; quick?: boolean; full?: boolean; only?: string; resultsDir: string; print?: string; updateReadme: boolean; skipUnavailable: boolean }>();
  const mode: Mode = o.smoke === true ? "smoke" : o.full === true ? "full" : "quick";
  const options: CliOptions = { mode, resultsDir: resolve(o.resultsDir), updateReadme: o.updateReadme, skipUnavailable: o.skipUnavailable };
  if (o.only !== undefined) options.only = o.only.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (o.print !== undefined) options.print = o.print;
  return options;
}

function selectBenchmarks(only: string[] | undefined): Benchmark[] {
  if (only === undefined) return allBenchmarks;
  const unknown = only.filter((name) => !allBenchmarks.some((b) => b.name === name));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${allBenchmarks.map((b) => b.name).join(", ")}`);
  return allBenchmarks.filter((b) => only.includes(b.name));
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

async function runOne(benchmark: Benchmark, mode: Mode, skipUnavailable: boolean): Promise<BenchmarkOutcome> {
  const measurements: Measurement[] = [];
  const charts: Chart[] = [];
  const notes: string[] = [];
  const origin = Date.now();
  const log = (message: string): void => {
    process.stderr.write(`[${benchmark.name} +${((Date.now() - origin) / 1000).toFixed(1)}s] ${message}\n`);
  };
  const outcome = (): BenchmarkOutcome => ({
    name: benchmark.name,
    title: benchmark.title,
    seconds: (Date.now() - origin) / 1000,
    measurements,
    charts: charts.map((c) => ({ logX: false, logY: false, ...c })),
    notes,
  });

  const unavailable = await benchmark.unavailableReason?.();
  if (unavailable !== undefined) {
    log(`unavailable: ${unavailable}`);
    return skipUnavailable ? { ...outcome(), skipped: unavailable } : { ...outcome(), error: `prerequisite missing: ${unavailable}` };
  }
  mkdirSync(scratchRoot, { recursive: true });
  const workDir = mkdtempSync(join(scratchRoot, `bench-${benchmark.name}-`));
  // Registered first, so an interrupt removes it after the fixtures inside it were released.
  const forgetWorkDir = releaseOnSignal(async () => {
    rmSync(workDir, { recursive: true, force: true });
    await Promise.resolve();
  });
  try {
    await benchmark.run({
      mode,
      workDir,
      log,
      record: (m) => {
        measurements.push(m);
        log(`${m.case} · ${m.metric}: ${m.value.toFixed(3)} ${m.unit}${m.ratio === undefined ? "" : ` (${m.ratio.toFixed(3)}×)`}`);
      },
      chart: (c) => charts.push(c),
      note: (text) => notes.push(text),
    });
    return outcome();
  } catch (error) {
    log(`FAILED: ${errorText(error)}`);
    return { ...outcome(), error: error instanceof Error ? error.message : String(error) };
  } finally {
    forgetWorkDir();
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function drawCharts(outcomes: BenchmarkOutcome[], runDir: string): Promise<string[]> {
  const problems: string[] = [];
  if (!(await gnuplotAvailable())) return ["gnuplot is not installed (apt-get install gnuplot-nox): no PNG charts written"];
  for (const outcome of outcomes) {
    for (const chart of outcome.charts) {
      try {
        await drawChart(chart, runDir);
      } catch (error) {
        problems.push(`chart ${chart.file}: ${errorText(error)}`);
      }
    }
  }
  return problems;
}

function headerOf(results: RunResults): RunHeader {
  return { mode: results.mode, startedAt: results.startedAt, machine: results.machine, loadAverage: results.loadAverage, cores: cpus().length };
}

async function main(): Promise<number> {
  const options = parseCli(process.argv);
  if (options.print !== undefined) {
    const results = readResults(options.print);
    process.stdout.write(renderReport(headerOf(results), results.outcomes));
    return 0;
  }
  const benchmarks = selectBenchmarks(options.only);
  const started = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  mkdirSync(options.resultsDir, { recursive: true });
  const runDir = makeRunDir(options.resultsDir, options.mode, started);
  const outcomes: BenchmarkOutcome[] = [];
  for (const benchmark of benchmarks) {
    const outcome = await runOne(benchmark, options.mode, options.skipUnavailable);
    outcomes.push(outcome);
    process.stdout.write(renderOutcome(outcome) + "\n\n");
  }
  const results: RunResults = {
    schema: "dpl-bench/1",
    mode: options.mode,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
    outcomes,
  };
  const resultsPath = writeResults(options.resultsDir, runDir, results);
  const report = renderReport(headerOf(results), outcomes);
  writeFileSync(join(runDir, "report.md"), report);
  const chartProblems = await drawCharts(outcomes, runDir);
  for (const problem of chartProblems) process.stderr.write(`bench: ${problem}\n`);
  if (options.updateReadme) {
    for (const readme of [join(__dirname, "README.md"), join(__dirname, "..", "README.md")]) replaceLatestTable(readme, report);
  }
  process.stdout.write(`\n${report.split("\n")[0] ?? ""}\nResults: ${resultsPath}\nCharts and report: ${runDir}\n`);

  const failed = outcomes.filter((o) => o.error !== undefined);
  const skipped = outcomes.filter((o) => o.skipped !== undefined);
  // The plain closing line CI reads: every benchmark that ran without error "passed".
  process.stdout.write(`bench: ${outcomes.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} skipped\n`);
  return failed.length > 0 || (chartProblems.length > 0 && options.mode !== "smoke") ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${errorText(error)}\n`);
    process.exitCode = 2;
  },
);
