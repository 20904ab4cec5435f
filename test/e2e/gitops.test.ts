/**
 * The commands of the GitOps pipelines (scripts/gitops-check.sh, run by the workflows in
 * examples/gitops) against a real DPL server and the real engine, on the example's program.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const repoRoot = resolve(__dirname, "..", "..");
const script = join(repoRoot, "scripts", "gitops-check.sh");

interface ScriptRun {
  code: number;
  output: string;
}

describe("the GitOps commands against a real server", () => {
  let server: RunningServer;
  let client: DplClient;
  let program: ProgramStack;
  let report: string;
  const cleanups = new Cleanups();

  const run = (command: string, extraEnv: Record<string, string> = {}): Promise<ScriptRun> =>
    new Promise((done) => {
      const env = { ...process.env, ...program.env, PULUMI_STACK: "e2e", GITOPS_PROJECT_DIR: program.dir, GITOPS_REPORT: report, ...extraEnv };
      execFile("bash", [script, command], { env, timeout: 300_000, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        done({ code, output: `${stdout}\n${stderr}` });
      });
    });

  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    program = await createProgramStack("gitops", undefined, server, { hostIqn: "iqn.2026-01.com.example:app1", chapSecret: "gitops-secret-1", sizeGib: "1" }, join(repoRoot, "examples", "gitops"));
    cleanups.add(async () => {
      await program.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
      await program.remove();
    });
    report = join(program.backendDir, "..", "plan.md");
  });
  afterAll(() => cleanups.run());

  it("preview on a pull request writes the plan as the comment body", async () => {
    const result = await run("preview");
    expect(result.code).toBe(0);
    const plan = readFileSync(report, "utf8");
    expect(plan).toContain("`pulumi preview` of stack `e2e`");
    expect(plan).toMatch(/\(create\)[\s\S]*::app-data\]/);
    expect(plan).toMatch(/\+ 3 to create/);
    expect(plan).not.toContain("\x1b[");
    // The comment is posted where anyone with read access sees it: the CHAP secret stays masked.
    expect(plan).not.toContain("gitops-secret-1");
  });

  it("up on merge applies it, and the drift check then passes", async () => {
    expect((await run("up")).code).toBe(0);
    expect(await client.listVolumes()).toHaveLength(1);
    const drift = await run("drift");
    expect(drift.output).toContain("no drift");
    expect(drift.code).toBe(0);
  });

  it("an edit in a pull request previews as an update, and its preview fails loudly when invalid", async () => {
    await program.stack.setConfig("sizeGib", { value: "2" });
    const edit = await run("preview");
    expect(edit.code).toBe(0);
    expect(readFileSync(report, "utf8")).toMatch(/app-data[\s\S]*~ sizeGib *: 1 => 2/);
    await program.stack.setConfig("sizeGib", { value: "-1" });
    const bad = await run("preview");
    expect(bad.code).not.toBe(0);
    expect(readFileSync(report, "utf8")).toMatch(/Preview failed[\s\S]*sizeGib/);
    await program.stack.setConfig("sizeGib", { value: "1" });
  });

  it("a pull request that breaks the team's policy pack fails its preview, and the comment says which policy", async () => {
    const config = join(program.backendDir, "..", "policy-config.json");
    writeFileSync(config, JSON.stringify({ "dpl-volume-size-cap": { maxSizeGib: 1 } }));
    const policy = { GITOPS_POLICY_PACK: join(repoRoot, "policy"), GITOPS_POLICY_CONFIG: config };
    expect((await run("preview", policy)).code).toBe(0);
    await program.stack.setConfig("sizeGib", { value: "2" });
    const over = await run("preview", policy);
    expect(over.code).not.toBe(0);
    expect(readFileSync(report, "utf8")).toMatch(/Preview failed[\s\S]*\[mandatory\]\s+dpl-volume-size-cap\s+\(\S+: app-data\)[\s\S]*over the cap of 1 GiB/);
    await program.stack.setConfig("sizeGib", { value: "1" });
  });

  it("a change made behind Pulumi's back fails the drift check, naming the resource", async () => {
    const [volume] = await client.listVolumes();
    if (volume === undefined) throw new Error("the up made no volume");
    await client.extendVolume(volume.id, 2 * 2 ** 30);
    const drift = await run("drift");
    expect(drift.code).toBe(3);
    expect(drift.output).toMatch(/changed outside Pulumi[^\n]*\n\s+update app-data \(volume\)/);
    expect(drift.output).not.toContain("program differs from the state");
    // The server's volume now holds 2 GiB; the program says so too, and a refresh records it.
    await program.stack.setConfig("sizeGib", { value: "2" });
    await program.stack.refresh({ onOutput: () => undefined });
    const settled = await run("drift");
    expect(settled.output).toContain("no drift");
    expect(settled.code).toBe(0);
  });

  it("the drift check also fails when the program differs from the state", async () => {
    await program.stack.refresh({ onOutput: () => undefined });
    await program.stack.setConfig("sizeGib", { value: "3" });
    const drift = await run("drift");
    expect(drift.code).toBe(3);
    expect(drift.output).toMatch(/program differs from the state[^\n]*\n\s+update app-data \(volume\)/);
    await program.stack.setConfig("sizeGib", { value: "2" });
  });
});
