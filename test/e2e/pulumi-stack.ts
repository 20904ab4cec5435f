/**
 * Runs real Pulumi programs (the CLI built by scripts/setup-pulumi.sh, our language host, the
 * dynamic-provider host of @pulumi/pulumi) through the Automation API against a real DPL server.
 * Program dirs live under /work/main/.work/ so node resolution finds /work/main/node_modules (the
 * SDK and the provider resolve to their built dist/, as they would for a user).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, type EngineEvent, type OpType, type Stack } from "@pulumi/pulumi/automation";
import type { RunningServer } from "../support/dpl-server";
import { killAndWait, processesWithEnv } from "../support/process-scan";

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, "..", "..");

let engineReady: Promise<string> | undefined;

/**
 * Puts the pulumi engine on PATH (building it on first use) and builds the provider and SDK the
 * programs load. Fails loudly: an e2e run without the real engine proves nothing.
 */
export function preparePulumi(): Promise<string> {
  engineReady ??= (async () => {
    let binDir: string;
    try {
      const { stdout } = await execFileAsync("bash", [join(repoRoot, "scripts", "setup-pulumi.sh")], { cwd: repoRoot, timeout: 3_600_000, maxBuffer: 16 * 2 ** 20 });
      binDir = stdout.trim().split("\n").pop() ?? "";
    } catch (err) {
      throw new Error(`the pulumi engine is missing and scripts/setup-pulumi.sh could not provide it: ${(err as Error).message}`);
    }
    if (binDir === "") throw new Error("scripts/setup-pulumi.sh printed no bin directory");
    process.env.PATH = `${binDir}:${process.env.PATH ?? ""}`;
    await execFileAsync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-b", "provider", "sdk"], { cwd: repoRoot, timeout: 300_000 });
    return binDir;
  })();
  return engineReady;
}

let nativeHome: Promise<string> | undefined;

/**
 * Packs the native provider plugin (scripts/pack-native-provider.sh) and installs it the way a
 * user does, `pulumi plugin install resource dpl <version> --file <tarball>`, into a PULUMI_HOME
 * of its own (once per process). Stacks given `{ PULUMI_HOME }` run `dpl:*` types on it.
 */
export function installNativeProvider(): Promise<string> {
  nativeHome ??= (async () => {
    await preparePulumi();
    const home = mkdtempSync(join(tmpdir(), "dpl-native-home-"));
    process.once("exit", () => { rmSync(home, { recursive: true, force: true }); });
    const { stdout } = await execFileAsync("bash", [join(repoRoot, "scripts", "pack-native-provider.sh")], { cwd: repoRoot, timeout: 600_000 });
    const tarball = stdout.trim().split("\n").pop() ?? "";
    const { version } = JSON.parse(readFileSync(join(repoRoot, "native-provider", "package.json"), "utf8")) as { version: string };
    await execFileAsync("pulumi", ["plugin", "install", "resource", "dpl", version, "--file", tarball], { env: { ...process.env, PULUMI_HOME: home }, timeout: 120_000 });
    return home;
  })();
  return nativeHome;
}

export interface ProgramStack {
  stack: Stack;
  dir: string;
  backendDir: string;
  /** The environment every pulumi command of this stack runs with (backend, passphrase, marker). */
  env: Record<string, string>;
  /** Replaces the program's index.ts (the next preview/up runs the new program). */
  writeProgram(source: string): void;
  /** Writes `source` as the program and previews it: the steps that would change something. */
  previewProgram(source: string): Promise<Record<string, OpType>>;
  /** Writes `source` as the program and runs `up`: the stack's outputs, as plain values. */
  upProgram(source: string): Promise<Record<string, unknown>>;
  /** `pulumi stack export` as stored (secrets encrypted; the Automation API's exportStack decrypts them). */
  exportStoredState(): Promise<string>;
  /**
   * SIGKILLs every process this stack's commands started that is still alive (the language
   * host, the program, the provider hosts of a CLI that was killed) and returns their command
   * lines. They carry the stack's marker in their environment, orphaned or not.
   */
  reapProcesses(): Promise<string[]>;
  /** Deletes the stack's state and the program dir (after reaping the stack's processes). */
  remove(): Promise<void>;
}

const PASSPHRASE = "e2e-passphrase-not-a-secret";
/** Set in the environment of every command of one stack (its value: the stack's scratch dir). */
const STACK_MARKER = "DPL_TEST_STACK";

/**
 * A stack configured for `server`, with its own file backend: of a fresh program dir holding
 * `source`, or (source undefined) of the existing project in `projectDir`.
 */
export async function createProgramStack(
  label: string, source: string | undefined, server: RunningServer, extraConfig: Record<string, string> = {}, projectDir?: string,
  /** More environment for every command (e.g. PULUMI_HOME with an installed plugin). */
  extraEnv: Record<string, string> = {},
): Promise<ProgramStack> {
  await preparePulumi();
  const work = join(repoRoot, ".work");
  mkdirSync(work, { recursive: true });
  const root = mkdtempSync(join(work, `e2e-${label}-`));
  const dir = projectDir ?? join(root, "program");
  const backendDir = join(root, "backend");
  mkdirSync(backendDir);
  const caFile = join(root, "dpl-ca.pem");
  writeFileSync(caFile, server.caPem);
  const writeProgram = (text: string): void => {
    if (projectDir !== undefined) throw new Error(`will not overwrite the program of ${projectDir}`);
    writeFileSync(join(dir, "index.ts"), text);
  };
  if (projectDir === undefined) {
    mkdirSync(dir);
    writeFileSync(join(dir, "Pulumi.yaml"), `name: ${label}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n`);
    writeProgram(source ?? "");
  }

  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // The programs are type-checked by the repo's `tsc --noEmit`; ts-node only transpiles.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    // No DPL_* variables: the hooks must get everything from the stack config.
    DPL_ENDPOINT: "",
    DPL_PASSWORD: "",
    [STACK_MARKER]: root,
    ...extraEnv,
  };
  const reapProcesses = async (): Promise<string[]> => {
    const left = processesWithEnv(STACK_MARKER, root);
    await killAndWait(left.map((p) => p.pid));
    return left.map((p) => p.command);
  };
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: "e2e", workDir: dir }, { envVars });
  await stack.setAllConfig({
    "dpl:endpoint": { value: server.url },
    "dpl:username": { value: server.username },
    "dpl:password": { value: server.password, secret: true },
    "dpl:caFile": { value: server.caPem === "" ? "" : caFile },
    ...Object.fromEntries(Object.entries(extraConfig).map(([k, v]) => [k, { value: v }])),
  });
  return {
    stack,
    dir,
    backendDir,
    env: envVars,
    writeProgram,
    async exportStoredState() {
      const { stdout } = await execFileAsync("pulumi", ["stack", "export", "--stack", "e2e", "--non-interactive"], {
        cwd: dir,
        env: { ...process.env, ...envVars },
        timeout: 120_000,
        maxBuffer: 256 * 2 ** 20,
      });
      return stdout;
    },
    reapProcesses,
    async previewProgram(text) {
      writeProgram(text);
      const recorder = stepRecorder();
      await stack.preview({ onEvent: recorder.onEvent });
      return changingSteps(recorder.steps);
    },
    async upProgram(text) {
      writeProgram(text);
      const result = await stack.up({ onOutput: () => undefined });
      return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
    },
    async remove() {
      await reapProcesses();
      try {
        await stack.workspace.removeStack("e2e", { force: true });
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

export interface StepRecord {
  /** The step's main operation ("replace" for the several steps a replacement makes). */
  op: OpType;
  ops: OpType[];
  urn: string;
  /** Input properties that differ between the old state and the new inputs (what the CLI shows as "[diff: ~x]"). */
  diffs: string[];
  /** Keys causing a replacement. */
  keys: string[];
}

/** The dynamic-provider host reports no detailed diff, so the event's `diffs` is empty: compare the inputs. */
function changedInputs(olds: Record<string, unknown> | undefined, news: Record<string, unknown> | undefined): string[] {
  if (olds === undefined || news === undefined) return [];
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  keys.delete("__provider");
  keys.delete("objectId");
  return [...keys].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key])).sort();
}

/** Collects the steps an operation reports, keyed "Type:name" (e.g. "Volume:data"). */
export function stepRecorder(): { onEvent: (event: EngineEvent) => void; steps: Map<string, StepRecord> } {
  const steps = new Map<string, StepRecord>();
  return {
    steps,
    onEvent(event) {
      const meta = event.resourcePreEvent?.metadata;
      if (meta === undefined || meta.type === "pulumi:pulumi:Stack") return;
      const name = `${meta.type.split(":").pop() ?? meta.type}:${meta.urn.split("::").pop() ?? meta.urn}`;
      const previous = steps.get(name);
      const ops = [...(previous?.ops ?? []), meta.op];
      const op = ops.includes("replace") ? "replace" : (ops.find((o) => o !== "same" && o !== "read") ?? meta.op);
      steps.set(name, {
        op,
        ops,
        urn: meta.urn,
        diffs: previous?.diffs.length ? previous.diffs : changedInputs(meta.old?.inputs, meta.new?.inputs),
        keys: previous?.keys.length ? previous.keys : (meta.keys ?? []),
      });
    },
  };
}

/** The steps that change something (everything but "same"/"read"). */
export function changingSteps(steps: Map<string, StepRecord>): Record<string, OpType> {
  return Object.fromEntries([...steps].filter(([, s]) => s.op !== "same" && s.op !== "read").map(([name, s]) => [name, s.op]));
}
