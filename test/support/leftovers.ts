/**
 * What a test run may leave behind: processes it started (found by the run marker every process
 * of the run inherits), mounts below the repository and loop devices backed by files below it
 * (every test and benchmark keeps its state under <repo>/.work). The suite ends with this check;
 * whatever it finds is named, then removed so it does not outlive the run.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { killAndWait, processesWithEnv, selfAndAncestors } from "./process-scan";

/** The environment variable that marks every process of one test run. */
export const RUN_MARKER = "DPL_TEST_RUN";

const repoRoot = resolve(__dirname, "..", "..");

interface Leftovers {
  processes: { pid: number; command: string }[];
  mounts: string[];
  loops: { device: string; backingFile: string }[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * vitest's own processes carry the marker too (its workers, and the esbuild service it
 * transforms sources with, which lives until vitest exits); they are not the tests' leftovers.
 */
function isTestRunner(command: string): boolean {
  return /node_modules\/(vitest|tinypool)\//.test(command) || /^node \(vitest \d+\)$/.test(command)
    || /node_modules\/@esbuild\/[^/]+\/bin\/esbuild --service=/.test(command);
}

function strayProcesses(marker: string): Leftovers["processes"] {
  return processesWithEnv(RUN_MARKER, marker, selfAndAncestors()).filter((p) => !isTestRunner(p.command));
}

/** Mount points below the repository, deepest first (the order to unmount them in). */
function mountsBelowRepo(): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => (line.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((point) => point.startsWith(`${repoRoot}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Attached loop devices and their files, read from sysfs rather than from losetup: that needs no
 * root and no /usr/sbin on PATH, so the unit lane's guard runs for any contributor.
 */
function loopsBelowRepo(): Leftovers["loops"] {
  const loops: Leftovers["loops"] = [];
  for (const name of readdirSync("/sys/block").filter((entry) => entry.startsWith("loop"))) {
    let backingFile: string;
    try {
      backingFile = readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8").trim();
    } catch {
      continue; // not attached
    }
    if (backingFile.replace(/ \(deleted\)$/, "").startsWith(`${repoRoot}/`)) loops.push({ device: `/dev/${name}`, backingFile });
  }
  return loops;
}

function find(marker: string): Leftovers {
  return { processes: strayProcesses(marker), mounts: mountsBelowRepo(), loops: loopsBelowRepo() };
}

const isEmpty = (l: Leftovers): boolean => l.processes.length + l.mounts.length + l.loops.length === 0;

/** One line per leftover, e.g. "process 4242: node .../dynamic-provider/index.js". */
export function describeLeftovers(l: Leftovers): string[] {
  return [
    ...l.processes.map((p) => `process ${p.pid}: ${p.command}`),
    ...l.mounts.map((m) => `mount ${m}`),
    ...l.loops.map((loop) => `loop device ${loop.device} backed by ${loop.backingFile}`),
  ];
}

function unmountAndDetach(l: Leftovers): void {
  for (const point of l.mounts) {
    try {
      execFileSync("umount", ["-l", point], { timeout: 30_000, stdio: "ignore" });
    } catch {
      /* reported already */
    }
  }
  for (const loop of l.loops) {
    try {
      execFileSync("losetup", ["-d", loop.device], { timeout: 10_000, stdio: "ignore" });
    } catch {
      /* reported already */
    }
  }
}

/**
 * Waits up to `graceMs` for the run's processes to end and its mounts and loops to go (a
 * provider host exits a moment after its engine), then names what is still there, removes it,
 * and returns the names ([] when the run left nothing).
 */
export async function reapLeftovers(marker: string, graceMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  let found = find(marker);
  while (!isEmpty(found) && Date.now() < deadline) {
    await sleep(250);
    found = find(marker);
  }
  if (isEmpty(found)) return [];
  // The processes first: a tgtd keeps its LUN files, and so the loops, in use.
  const names = describeLeftovers(found);
  await killAndWait(found.processes.map((p) => p.pid));
  unmountAndDetach(found);
  return names;
}
