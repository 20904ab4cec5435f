/**
 * PNG charts drawn by gnuplot (Debian's gnuplot-nox): each chart's data goes in a .dat file
 * beside the PNG, so the figures behind a picture stay readable.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../server/src/engines/command";
import { Chart as ChartSchema, type Chart } from "./benchmark";

function quoted(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** One gnuplot data block per series (blocks are separated by two blank lines: `index N`). */
function dataFileText(chart: ReturnType<typeof ChartSchema.parse>): string {
  return chart.series.map((s) => [`# ${s.name}`, ...s.points.map(([x, y]) => `${x} ${y}`)].join("\n")).join("\n\n\n") + "\n";
}

function scriptText(chart: ReturnType<typeof ChartSchema.parse>, dataPath: string, pngPath: string): string {
  const lines = [
    "set terminal pngcairo size 1000,600 noenhanced font ',11'",
    `set output ${quoted(pngPath)}`,
    `set title ${quoted(chart.title)}`,
    `set xlabel ${quoted(chart.xLabel)}`,
    `set ylabel ${quoted(chart.yLabel)}`,
    "set grid",
    "set key outside right top",
    "set yrange [0:*]",
  ];
  if (chart.referenceY !== undefined) lines.push(`set arrow from graph 0, first ${chart.referenceY} to graph 1, first ${chart.referenceY} nohead dashtype 2 lw 2 lc rgb "red"`);
  if (chart.logX) lines.push("set logscale x");
  if (chart.logY) lines.push("set logscale y", "set yrange [*:*]");
  const categories = chart.categories;
  if (categories !== undefined) {
    const count = chart.series.length;
    const width = 0.8 / Math.max(1, count);
    lines.push(
      `set xtics (${categories.map((c, i) => `${quoted(c)} ${i}`).join(", ")}) rotate by -25`,
      `set xrange [-0.6:${categories.length - 0.4}]`,
      "set style fill solid 0.8 border -1",
      `set boxwidth ${width}`,
    );
    const plots = chart.series.map((s, i) => {
      const shift = (i - (count - 1) / 2) * width;
      return `${quoted(dataPath)} index ${i} using ($1+${shift}):2 with boxes title ${quoted(s.name)}`;
    });
    lines.push(`plot ${plots.join(", ")}`);
  } else {
    // gnuplot cycles 8 colours: point shape and dash pattern keep more series apart.
    const plots = chart.series.map((s, i) =>
      `${quoted(dataPath)} index ${i} using 1:2 with linespoints lw 2 pt ${(i % 12) + 1} ps 1.5 dt ${Math.floor(i / 8) + 1} title ${quoted(s.name)}`);
    lines.push(`plot ${plots.join(", ")}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes <dir>/<file>.png and <dir>/<file>.dat; returns the PNG path. */
export async function drawChart(input: Chart, dir: string): Promise<string> {
  const chart = ChartSchema.parse(input);
  const dataPath = join(dir, `${chart.file}.dat`);
  const pngPath = join(dir, `${chart.file}.png`);
  writeFileSync(dataPath, dataFileText(chart));
  await runCommand("gnuplot", [], { input: scriptText(chart, dataPath, pngPath), timeoutMs: 30_000 });
  return pngPath;
}

export async function gnuplotAvailable(): Promise<boolean> {
  try {
    await runCommand("gnuplot", ["--version"], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}
