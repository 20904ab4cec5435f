/** Runs the built `dpl` CLI (provider/dist/cli/main.js) against a test server, as a user would. */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import type { RunningServer } from "./dpl-server";

const dplCli = join(resolve(__dirname, "..", ".."), "provider", "dist", "cli", "main.js");

export interface CliRun {
  stdout: string;
  stderr: string;
  status: number | null;
}

export function cliEnvironment(server: RunningServer): NodeJS.ProcessEnv {
  return { ...process.env, DPL_ENDPOINT: server.url, DPL_USERNAME: server.username, DPL_PASSWORD: server.password, DPL_CA_PEM: server.caPem, DPL_CA_FILE: "" };
}

/** Runs `dpl ...args` (with `extraEnv` added to the environment); resolves with its output and exit status (killed after 120 s). */
export function runDplCli(server: RunningServer, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [dplCli, ...args], { env: { ...cliEnvironment(server), ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, status });
    });
  });
}
