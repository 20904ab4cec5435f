/**
 * The one place the server runs privileged commands: execFile/spawn with argument arrays (never a
 * shell), a timeout on every call, and typed errors that carry the command and its stderr.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, readdirSync } from "node:fs";
import { basename } from "node:path";
import { EngineError, type EngineErrorCode } from "../core/ports";

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** Generous: output of a stuck command should never be able to exhaust memory. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Added to (not replacing) the server's environment. */
  env?: Record<string, string>;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * An argument that must never be written down: a CHAP secret tgtadm only takes on its command
 * line. The command runs with its value; every description of the command (error messages, the
 * server log, event rows, HTTP replies, Pulumi output) shows REDACTED instead, and the value is
 * cut out of the stderr and stdout an error carries.
 */
export class SecretArgument {
  // A private field: JSON.stringify and util.inspect of the argument (or of a command's argument
  // list) cannot reach it either.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value, for the child process's argv only. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }
}

export type CommandArgument = string | SecretArgument;

export const REDACTED = "<redacted>";

function argv(args: readonly CommandArgument[]): string[] {
  return args.map((arg) => (typeof arg === "string" ? arg : arg.reveal()));
}

/** The command as it may be shown: secret arguments redacted. */
export function describeCommand(file: string, args: readonly CommandArgument[]): string {
  return [file, ...args.map(String)].join(" ");
}

/** `text` with every secret argument's value cut out (a program may echo its arguments). */
export function redactSecrets(text: string, args: readonly CommandArgument[]): string {
  let redacted = text;
  for (const arg of args) {
    if (arg instanceof SecretArgument && arg.reveal() !== "") redacted = redacted.split(arg.reveal()).join(REDACTED);
  }
  return redacted;
}

export class CommandError extends EngineError {
  constructor(
    message: string,
    readonly command: string,
    code: EngineErrorCode = "FAILED",
  ) {
    super(code, message);
  }
}

/** The tools say a full filesystem in their own words; errno's text is what they all share. */
const NO_SPACE = /No space left on device|ENOSPC/;

export class CommandFailedError extends CommandError {
  constructor(
    command: string,
    /** null when the process was killed by a signal. */
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? "by signal"}): ${stderr.trim() || stdout.trim() || "no output"}`, command,
      NO_SPACE.test(stderr) || NO_SPACE.test(stdout) ? "NO_SPACE" : "FAILED");
  }
}

export class CommandTimeoutError extends CommandError {
  constructor(
    command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command} timed out after ${timeoutMs} ms`, command);
  }
}

export class CommandNotFoundError extends CommandError {
  constructor(command: string, file: string) {
    super(`${file} not found (is its package installed and on PATH?)`, command);
  }
}

/** Runs a command to completion; rejects with a CommandError subclass on any failure. */
export function runCommand(file: string, args: readonly CommandArgument[], options: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const command = describeCommand(file, args);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv(args),
      {
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: "utf8",
        env: options.env ? { ...process.env, ...options.env } : process.env,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") reject(new CommandNotFoundError(command, file));
        else if (error.killed && error.signal === "SIGKILL") reject(new CommandTimeoutError(command, timeoutMs));
        else reject(new CommandFailedError(command, typeof code === "number" ? code : null, redactSecrets(stderr, args), redactSecrets(stdout, args)));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A long-running child (tgtd). Its output is kept (tail only) so that a daemon that dies at
 * start can be reported with its own words.
 */
export class DaemonProcess {
  readonly exited: Promise<DaemonExit>;
  private exitInfo: DaemonExit | undefined;
  private outputTail = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly command: string,
    private readonly logFile: string | undefined,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        const exit = { code, signal };
        this.exitInfo = exit;
        // "exit" can come before the last output was read: wait for the pipes to close (briefly,
        // in case a child of the daemon still holds them).
        const settle = setTimeout(() => { resolve(exit); }, 1000);
        child.once("close", () => {
          clearTimeout(settle);
          resolve(exit);
        });
      });
      child.once("error", () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString("utf8")).slice(-8192);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
  }

  /**
   * Spawns the daemon in its own process group (a signal to the server's group does not reach
   * it). With `logFile` its output goes there, so it outlives the server without dying on a
   * closed pipe; otherwise it is piped and kept in memory.
   */
  static start(file: string, args: readonly string[], options: { env?: Record<string, string>; logFile?: string } = {}): Promise<DaemonProcess> {
    const command = describeCommand(file, args);
    const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, "a", 0o600);
    return new Promise<DaemonProcess>((resolve, reject) => {
      const child = spawn(file, args, {
        env: { ...process.env, ...options.env },
        stdio: ["ignore", logFd ?? "pipe", logFd ?? "pipe"],
        detached: true,
      });
      child.once("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") reject(new CommandNotFoundError(command, file));
        else reject(new CommandError(`${command} could not start: ${error.message}`, command));
      });
      child.once("spawn", () => {
        resolve(new DaemonProcess(child, command, options.logFile));
      });
    }).finally(() => {
      if (logFd !== undefined) closeSync(logFd);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines the daemon wrote (from its log file when it has one). */
  get output(): string {
    if (this.logFile === undefined) return this.outputTail.trim();
    try {
      return readFileSync(this.logFile, "utf8").slice(-8192).trim();
    } catch {
      return "";
    }
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves true when the process exited within the time. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, timeoutMs);
    });
    const result = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }
}

// ------------------------------------------------------------------ freezing a daemon

export class ProcessFreezeError extends Error {
  override name = "ProcessFreezeError";
}

/** The state letter of every thread of a process (from /proc/<pid>/task/<tid>/stat), empty when it is gone. */
function threadStates(pid: number): string[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const states: string[] = [];
  for (const task of tasks) {
    try {
      // The command name in parentheses may hold spaces: the state follows the last ")".
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
      states.push(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
    } catch {
      // A thread that ended meanwhile is not running either.
    }
  }
  return states;
}

/**
 * Stops every thread of a process (SIGSTOP) and resolves once the kernel reports each of them
 * stopped: a thread inside a system call (a write to a backing file) finishes that call first, so
 * when this resolves no write of the process is half done and none starts until thawProcess().
 */
export async function freezeProcess(pid: number, timeoutMs: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = threadStates(pid);
    if (states.length === 0) throw new ProcessFreezeError(`process ${pid} is gone`);
    if (states.every((state) => state === "T" || state === "t")) return;
    if (Date.now() > deadline) {
      process.kill(pid, "SIGCONT");
      throw new ProcessFreezeError(`process ${pid} did not stop within ${timeoutMs} ms (thread states ${states.join("")})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Lets a frozen process run again; harmless on a running one. */
export function thawProcess(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Pids of running programs named `program` whose arguments include `args` in this order, adjacent. */
export function findProcesses(program: string, args: readonly string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (basename(argv[0] ?? "") !== program) continue;
    const at = argv.findIndex((_, i) => args.every((arg, j) => argv[i + j] === arg));
    if (at > 0) found.push(Number(entry));
  }
  return found;
}
