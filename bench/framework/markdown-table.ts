/** Prints outcomes as GitHub markdown: one table per benchmark, the same text the README carries. */
import type { BenchmarkOutcome, Measurement } from "./benchmark";

/** Three significant figures, no exponent for the magnitudes benchmarks produce. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString("en-US");
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  if (magnitude === 0) return "0";
  return value.toPrecision(3);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [
    `| ${header.map(escapeCell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(" | ")} |`),
  ];
  return lines.join("\n");
}

function targetCell(m: Measurement): string {
  if (m.target === undefined) return "";
  return `${m.target.met ? "met" : "MISSED"} (${m.target.description})`;
}

function measurementRow(m: Measurement): string[] {
  return [
    m.case,
    m.metric,
    `${formatNumber(m.value)} ${m.unit}`,
    m.baseline === undefined ? "" : `${formatNumber(m.baseline.value)} ${m.unit} (${m.baseline.label})`,
    m.ratio === undefined ? "" : `${formatNumber(m.ratio)}×`,
    targetCell(m),
  ];
}

export function renderOutcome(outcome: BenchmarkOutcome): string {
  const parts = [`### ${outcome.title} (\`${outcome.name}\`, ${formatNumber(outcome.seconds)} s)`];
  if (outcome.skipped !== undefined) parts.push(`Skipped: ${outcome.skipped}`);
  if (outcome.error !== undefined) parts.push(`**Failed:** ${outcome.error}`);
  if (outcome.measurements.length > 0) {
    parts.push(renderTable(["case", "metric", "value", "baseline", "ratio", "target"], outcome.measurements.map(measurementRow)));
  }
  if (outcome.notes.length > 0) parts.push(outcome.notes.map((n) => `- ${n}`).join("\n"));
  return parts.join("\n\n");
}

export interface RunHeader {
  mode: string;
  startedAt: string;
  machine: string;
  loadAverage: { start: number; end: number };
  cores: number;
}

export function renderReport(header: RunHeader, outcomes: readonly BenchmarkOutcome[]): string {
  const missed = outcomes.flatMap((o) => o.measurements.filter((m) => m.target?.met === false).map((m) => `${o.name}: ${m.case} ${m.metric}`));
  const busy = Math.max(header.loadAverage.start, header.loadAverage.end) > header.cores;
  const summary = [
    `Mode **${header.mode}**, ${header.startedAt}, ${header.machine}, load average ${header.loadAverage.start.toFixed(1)} → ${header.loadAverage.end.toFixed(1)}${busy ? " (**busy machine: figures are noisy**)" : ""}.`,
    missed.length === 0 ? "Every target with a figure in this run was met." : `Targets missed: ${missed.join("; ")}.`,
  ].join(" ");
  return [summary, ...outcomes.map(renderOutcome)].join("\n\n") + "\n";
}
