/**
 * Starts the BUILT DPL server (`server/bin/dpl-server serve ...`, the launcher users run) as a child process on real
 * engines, for integration and e2e tests. Every server gets a fresh state dir under
 * /work/main/.work/, an HTTP port chosen by the kernel, a free iSCSI portal port and its own tgtd
 * control port, so test files never share a tgtd.
 *
 * kill() is a crash: SIGKILL of the server only. Its tgtd, mounts and loop devices stay behind as
 * they would after a real crash; restart() (or the next start on the same state dir) adopts them,
 * and stop() after a kill starts the server once more to shut everything down properly.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Agent, request } from "undici";

const execFileAsync = promisify(execFile);

export interface StartServerOptions {
  /** Reuse a state dir (e.g. one a previous server left); a fresh one under .work/ otherwise. */
  stateDir?: string;
  /** Size of the embedded "default" pool made at first start; "4GiB" unless given. */
  embeddedPoolSize?: string;
  extraArgs?: string[];
  /** Extra environment for the server process (e.g. a PATH that puts a tool wrapper first). */
  env?: Record<string, string>;
}

export interface RunningServer {
  /** Base URL, e.g. https://127.0.0.1:41234 (no trailing slash). */
  url: string;
  username: string;
  password: string;
  /** The server's self-signed certificate (trust it as a CA); "" with --insecure-http. */
  caPem: string;
  stateDir: string;
  /** The iSCSI portal, "127.0.0.1:<port>". */
  portal: string;
  /** Id of the embedded "default" pool. */
  poolId: string;
  /** Graceful stop (SIGTERM): no targets, tgtd, mounts or loop devices left; removes the state dir it made. */
  stop(): Promise<void>;
  /** A crash: SIGKILL of the server process only. */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same state dir and ports (after kill() or a graceful stop);
   * `whileStopped` runs between the stop and the start (e.g. to break a pool's device).
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  /** What the server printed (stdout and stderr) since its last start, the last 20 KB of it. */
  log(): string;
}

interface ReadyFile {
  url: string;
  pid: number;
  poolId: string | null;
  passwordFile: string;
  caFile: string | null;
}

const repoRoot = resolve(__dirname, "..", "..");
const serverMain = join(repoRoot, "server", "dist", "main.js");
const serverLauncher = join(repoRoot, "server", "bin", "dpl-server");
const workDir = join(repoRoot, ".work");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let buildChecked: Promise<void> | undefined;
/** Builds server (and the wire package it uses) when dist is missing or older than any source. */
function ensureBuilt(): Promise<void> {
  buildChecked ??= (async () => {
    const sources = Math.max(newestMtime(join(repoRoot, "server", "src")), newestMtime(join(repoRoot, "provider", "src")));
    if (existsSync(serverMain) && statSync(serverMain).mtimeMs >= sources) return;
    try {
      await execFileAsync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-b", "server"], { cwd: repoRoot, timeout: 240_000 });
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? "";
      throw new Error(`building the server (tsc -b server) failed:\n${out}`);
    }
  })();
  return buildChecked;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const probe = createServer();
    probe.once("error", rej);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => {
        res(port);
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once("exit", () => {
      r();
    });
  });
}

export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  await ensureBuilt();
  mkdirSync(workDir, { recursive: true });
  const ownsStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? mkdtempSync(join(workDir, "dpl-server-"));
  const portal = `127.0.0.1:${await freePort()}`;
  // tgtd's control "port" names an abstract unix socket; any unused number will do.
  const tgtControlPort = 2_000 + Math.floor(Math.random() * 30_000); // tgtd accepts 0..32767
  const readyFile = join(stateDir, "ready.json");
  let listenPort = 0;

  let child: ChildProcess | undefined;
  let output = "";
  const server: RunningServer = {
    url: "", username: "admin", password: "", caPem: "", stateDir, portal, poolId: "",
    stop, kill, restart, log: () => output,
  };

  async function launch(): Promise<void> {
    rmSync(readyFile, { force: true });
    const args = [
      "serve",
      "--state-dir", stateDir,
      "--listen", `127.0.0.1:${listenPort}`,
      "--portal", portal,
      "--tgt-control-port", String(tgtControlPort),
      "--embedded-pool", opts.embeddedPoolSize ?? "4GiB",
      "--ready-file", readyFile,
      ...(opts.extraArgs ?? []),
    ];
    output = "";
    // The launcher execs node (this one) in its own process: the child's pid is the server's.
    const proc = spawn(serverLauncher, args, { cwd: repoRoot, env: { ...process.env, DPL_NODE: process.execPath, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    const deadline = Date.now() + 120_000;
    while (!existsSync(readyFile)) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`dpl server exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${output}`);
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`dpl server not ready within 120 s:\n${output}`);
      }
      await sleep(50);
    }
    const ready = JSON.parse(readFileSync(readyFile, "utf8")) as ReadyFile;
    server.url = ready.url;
    listenPort = Number(new URL(ready.url).port); // restart() keeps the URL clients already hold
    server.password = readFileSync(ready.passwordFile, "utf8").trim();
    server.caPem = ready.caFile === null ? "" : readFileSync(ready.caFile, "utf8");
    server.poolId = ready.poolId ?? "";
  }

  async function kill(): Promise<void> {
    const proc = child;
    if (proc === undefined) return;
    proc.kill("SIGKILL");
    await exited(proc);
    child = undefined;
  }

  async function gracefulStop(): Promise<void> {
    const proc = child;
    if (proc === undefined) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    await exited(proc);
    clearTimeout(timer);
    child = undefined;
    if (proc.exitCode !== 0) throw new Error(`dpl server stopped with ${proc.exitCode ?? proc.signalCode}:\n${output}`);
  }

  async function restart(whileStopped?: () => Promise<void>): Promise<void> {
    await gracefulStop();
    await whileStopped?.();
    await launch();
  }

  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    let leftovers: string[] = [];
    try {
      // After a crash the engines are still up: one more start adopts them and its stop releases them.
      if (child === undefined) await launch();
      await gracefulStop();
    } finally {
      leftovers = await releaseLeftovers(stateDir, tgtControlPort);
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    }
    // A graceful stop must leave nothing behind; the harness cleaned up, but says so loudly.
    if (leftovers.length > 0) throw new Error(`the server's stop left behind: ${leftovers.join("; ")}`);
  }

  try {
    await launch();
  } catch (e) {
    await releaseLeftovers(stateDir, tgtControlPort);
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
  return server;
}

function imageFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? imageFiles(join(dir, entry.name)) : [join(dir, entry.name)]);
}

/** Last resort after a stop: kills our tgtd, unmounts pools, detaches loops; returns what it found. */
async function releaseLeftovers(stateDir: string, tgtControlPort: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const args = cmdline.split("\0");
    const portIndex = Math.max(args.indexOf("--control-port"), args.indexOf("-C"));
    if (args[0]?.endsWith("tgtd") === true && portIndex >= 0 && args[portIndex + 1] === String(tgtControlPort)) {
      found.push(`tgtd pid ${pid}`);
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((mountPoint) => mountPoint.startsWith(stateDir + "/"))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) {
    found.push(`mount ${mountPoint}`);
    await execFileAsync("umount", ["-l", mountPoint], { timeout: 30_000 }).catch(() => undefined);
  }
  for (const image of imageFiles(join(stateDir, "images"))) {
    {
      const { stdout } = await execFileAsync("losetup", ["-j", image], { timeout: 10_000 })
        .catch(() => ({ stdout: "" }));
      for (const line of stdout.split("\n")) {
        const device = line.split(":")[0];
        if (device !== undefined && device.startsWith("/dev/loop")) {
          found.push(`loop device ${device}`);
          await execFileAsync("losetup", ["-d", device], { timeout: 10_000 }).catch(() => undefined);
        }
      }
    }
  }
  return found;
}

export interface DplResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  text: string;
}

const agents = new WeakMap<RunningServer, Agent>();

/**
 * One raw request to the server as a DPL client sends it (CDMI headers, Basic auth), for tests
 * that check the wire itself. `auth: null` sends no credentials; `rawBody` sends bytes as they are.
 */
export async function dplRequest(
  server: RunningServer,
  method: "GET" | "PUT" | "DELETE" | "POST",
  path: string,
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; auth?: { username: string; password: string } | null } = {},
): Promise<DplResponse> {
  let agent = agents.get(server);
  if (agent === undefined) {
    agent = new Agent({ connect: { ca: server.caPem === "" ? undefined : server.caPem }, keepAliveTimeout: 1000 });
    agents.set(server, agent);
  }
  const auth = options.auth === undefined ? { username: server.username, password: server.password } : options.auth;
  const headers: Record<string, string> = {
    "content-type": "application/cdmi-container",
    accept: "application/cdmi-container",
    "x-cdmi-specification-version": "1.0.2",
    ...(auth === null ? {} : { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }),
    ...options.headers,
  };
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await request(`${server.url}${path}`, { method, headers, body: payload, dispatcher: agent, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : (JSON.parse(text) as unknown);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}
