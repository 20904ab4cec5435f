/**
 * Finds processes by an environment variable they inherited, through /proc. Children keep their
 * parent's environment when they are orphaned (reparented to PID 1), so a marker set where a test
 * starts the pulumi CLI or a server still finds the language host, the dynamic-provider hosts and
 * tgtd after the process that started them was SIGKILLed.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export interface ScannedProcess {
  pid: number;
  /** The command line, NULs as spaces, cut to 200 characters. */
  command: string;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined; // gone meanwhile, or a kernel thread
  }
}

function parentOf(pid: number): number {
  const stat = readProc(pid, "stat");
  // The command name (field 2) may hold spaces and parentheses: read after its last ")".
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields?.[1] ?? 0);
}

/** `pid` and every process above it, up to PID 1. */
export function selfAndAncestors(pid = process.pid): Set<number> {
  const chain = new Set<number>();
  for (let p = pid; p > 1 && !chain.has(p); p = parentOf(p)) chain.add(p);
  return chain;
}

function isZombie(pid: number): boolean {
  const stat = readProc(pid, "stat");
  return stat?.slice(stat.lastIndexOf(")") + 2).startsWith("Z") ?? true;
}

/** Live processes (not zombies, not in `exclude`) whose environment has `name=value`. */
export function processesWithEnv(name: string, value: string, exclude: ReadonlySet<number> = selfAndAncestors()): ScannedProcess[] {
  const wanted = `${name}=${value}`;
  const found: ScannedProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (exclude.has(pid)) continue;
    const environ = readProc(pid, "environ");
    if (environ === undefined || !environ.split("\0").includes(wanted) || isZombie(pid)) continue;
    const command = (readProc(pid, "cmdline") ?? "").split("\0").join(" ").trim().slice(0, 200);
    found.push({ pid, command: command === "" ? safeExe(pid) : command });
  }
  return found;
}

function safeExe(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return `pid ${pid}`;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGKILLs `pids` and waits (up to 10 s) until none of them is alive any more. */
export async function killAndWait(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some((pid) => readProc(pid, "stat") !== undefined && !isZombie(pid)) && Date.now() < deadline) await sleep(50);
}
