/**
 * The one place the server runs privileged commands: execFile/spawn with argument arrays (never a
 * shell), a timeout on every call, and typed errors that carry the command and its stderr.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

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

function describe(file: string, args: readonly string[]): string {
  return [file, ...args].join(" ");
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class CommandFailedError extends CommandError {
  constructor(
    command: string,
    /** null when the process was killed by a signal. */
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? "by signal"}): ${stderr.trim() || stdout.trim() || "no output"}`, command);
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
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const command = describe(file, args);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
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
        else reject(new CommandFailedError(command, typeof code === "number" ? code : null, stderr, stdout));
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
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
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
    const command = describe(file, args);
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
