/**
 * libiscsi's user-space initiator for tests: one-shot qemu-io calls (with CHAP when given), and a
 * long-lived qemu-io session that stays logged in between I/Os. A LUN is named either by its
 * address or by a ready `--image-opts` string (what an ISCSIExport's connection output holds).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface LunAddress {
  portal: string;
  targetIqn: string;
  lun: number;
  initiator: string;
  chap?: { username: string; secret: string } | undefined;
}

export type Lun = LunAddress | string;

function describe(lun: Lun): string {
  return typeof lun === "string" ? lun : lun.targetIqn;
}

/** `--image-opts` of a raw image on an iSCSI LUN (libiscsi via qemu's iscsi block driver). */
export function lunImageOpts(lun: Lun): string {
  if (typeof lun === "string") return lun;
  const address = lun;
  const options = [
    "driver=raw",
    "file.driver=iscsi",
    "file.transport=tcp",
    `file.portal=${address.portal}`,
    `file.target=${address.targetIqn}`,
    `file.lun=${address.lun}`,
    `file.initiator-name=${address.initiator}`,
  ];
  if (address.chap !== undefined) options.push(`file.user=${address.chap.username}`, `file.password=${address.chap.secret}`);
  return options.join(",");
}

export interface IoOutcome {
  ok: boolean;
  output: string;
}

/** One qemu-io command; never throws (a refused login is an outcome, not an error). */
export async function runQemuIo(address: Lun, command: string, timeoutMs = 60_000): Promise<IoOutcome> {
  try {
    const { stdout, stderr } = await execFileAsync("qemu-io", ["--image-opts", lunImageOpts(address), "-c", command], { timeout: timeoutMs });
    const output = `${stdout}${stderr}`;
    return { ok: /(wrote|read) \d+\/\d+ bytes/.test(output) && !output.includes("Pattern verification failed"), output };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}` };
  }
}

export async function writePattern(address: Lun, byte: number, offset: number, length: number): Promise<void> {
  const outcome = await runQemuIo(address, `write -P ${byte} ${offset} ${length}`);
  if (!outcome.ok) throw new Error(`qemu-io write to ${describe(address)} failed: ${outcome.output}`);
}

export async function holdsPattern(address: Lun, byte: number, offset: number, length: number): Promise<boolean> {
  const outcome = await runQemuIo(address, `read -P ${byte} ${offset} ${length}`);
  if (outcome.output.includes("Pattern verification failed")) return false;
  if (!outcome.ok) throw new Error(`qemu-io read from ${describe(address)} failed: ${outcome.output}`);
  return true;
}

/**
 * An interactive qemu-io: logs in once and keeps the iSCSI session between commands, so a test
 * can break the target between two I/Os of the same initiator.
 */
export class QemuIoSession {
  private output = "";
  /** Woken on every chunk of output, so a command returns as soon as qemu-io prompts again. */
  private onOutput: (() => void) | undefined;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const keep = (c: Buffer): void => {
      this.output += c.toString();
      this.onOutput?.();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
  }

  static async open(address: Lun): Promise<QemuIoSession> {
    const child = spawn("qemu-io", ["--image-opts", lunImageOpts(address)], { stdio: ["pipe", "pipe", "pipe"] });
    const session = new QemuIoSession(child);
    await session.prompt(0, 30_000);
    const length = await session.command("length", 30_000);
    if (!/\d+ (bytes|[KMGT]iB)/.test(length)) throw new Error(`qemu-io could not open ${describe(address)}: ${session.output}`);
    return session;
  }

  /** Sends one command and returns what qemu-io printed for it (up to its next prompt). */
  async command(line: string, timeoutMs = 60_000): Promise<string> {
    const start = this.output.length;
    this.child.stdin.write(`${line}\n`);
    return this.prompt(start, timeoutMs);
  }

  /** Waits for qemu-io's "qemu-io> " prompt (ready for a command) after `start`; returns the text before it. */
  private async prompt(start: number, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.slice(start).includes("qemu-io> ")) {
      if (this.child.exitCode !== null) throw new Error(`qemu-io exited: ${this.output.slice(start)}`);
      if (Date.now() > deadline) throw new Error(`qemu-io did not answer within ${timeoutMs} ms: ${this.output.slice(start)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.onOutput = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onOutput = undefined;
    }
    return this.output.slice(start);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin.end("quit\n");
    const exited = new Promise<void>((r) => { this.child.once("exit", () => { r(); }); });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
