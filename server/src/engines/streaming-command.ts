/**
 * A command whose output is read line by line while it runs (progress of long jobs such as
 * duperemove). Like runCommand: an argument array (never a shell), a timeout, typed errors.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError, describeCommand, type CommandResult } from "./command";

export interface StreamingRunOptions {
  timeoutMs: number;
  /** Called with each line of stdout and stderr as it arrives. */
  onLine: (line: string) => void;
}

/** Keeps only the tail: the caller parses lines as they come; the tail is for error messages. */
const KEPT_OUTPUT_CHARS = 64 * 1024;

export function runCommandStreaming(file: string, args: readonly string[], options: StreamingRunOptions): Promise<CommandResult> {
  const command = describeCommand(file, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdout = (stdout + line + "\n").slice(-KEPT_OUTPUT_CHARS);
      options.onLine(line);
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderr = (stderr + line + "\n").slice(-KEPT_OUTPUT_CHARS);
      options.onLine(line);
    });
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === "ENOENT" ? new CommandNotFoundError(command, file) : new CommandFailedError(command, null, error.message, ""));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new CommandTimeoutError(command, options.timeoutMs));
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandFailedError(command, code, stderr, stdout));
    });
  });
}
