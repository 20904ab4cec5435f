/** Keeps the README's "latest quick-mode table" section equal to a run's report. */
import { readFileSync, writeFileSync } from "node:fs";

const START = "<!-- bench:latest-table:start -->";
const END = "<!-- bench:latest-table:end -->";

export function replaceLatestTable(readmePath: string, report: string): void {
  const text = readFileSync(readmePath, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${START} … ${END} section`);
  writeFileSync(readmePath, `${text.slice(0, start + START.length)}\n${report.trim()}\n${text.slice(end)}`);
}
