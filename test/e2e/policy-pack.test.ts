/**
 * The dpl-guardrails policy pack (policy/) run by the real engine on `pulumi preview
 * --policy-pack`: a program that breaks a guardrail fails preview naming the policy and the
 * resource; a compliant one previews and applies; the pack's config moves a limit and lowers a
 * policy to advisory.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const policyPack = resolve(__dirname, "..", "..", "policy");
const HOST = "iqn.2026-01.com.example:policy";

interface Shape {
  raidLevel: string;
  sizeGib: number;
  chap: boolean;
}

function program({ raidLevel, sizeGib, chap }: Shape): string {
  const chapArgs = chap ? `, chap: { username: "policy", secret: "policy-secret-1" }` : "";
  return [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = new dpl.Pool("prod", { name: "prod", devices: [{ sizeGib: 1.5 }, { sizeGib: 1.5 }], raidLevel: ${JSON.stringify(raidLevel)}, tags: { environment: "production" }, forceDestroy: true });`,
    `const data = new dpl.Volume("data", { name: "data", pool, sizeGib: ${sizeGib}, thin: true });`,
    `new dpl.ISCSIExport("data", { volume: data, initiators: [${JSON.stringify(HOST)}]${chapArgs} });`,
  ].join("\n") + "\n";
}

interface PreviewOutcome {
  ok: boolean;
  output: string;
}

describe("the dpl-guardrails policy pack through the pulumi engine", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  const cleanups = new Cleanups();

  const previewWithPolicy = async (shape: Shape, config?: Record<string, unknown>): Promise<PreviewOutcome> => {
    stack.writeProgram(program(shape));
    const policyPackConfigs: string[] = [];
    if (config !== undefined) {
      const file = join(stack.backendDir, "..", "policy-config.json");
      writeFileSync(file, JSON.stringify(config));
      policyPackConfigs.push(file);
    }
    let output = "";
    try {
      await stack.stack.preview({ policyPacks: [policyPack], policyPackConfigs, onOutput: (line) => (output += line) });
      return { ok: true, output };
    } catch (err) {
      return { ok: false, output: `${output}\n${(err as Error).message}` };
    }
  };

  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "2GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    stack = await createProgramStack("policy", "", server);
    cleanups.add(async () => {
      await stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
      await stack.remove();
    });
  });
  afterAll(() => cleanups.run());

  it("fails preview naming each broken guardrail and its resource, and creates nothing", async () => {
    const pools = (await client.listPools()).length;
    const outcome = await previewWithPolicy({ raidLevel: "raid0", sizeGib: 2048, chap: false });
    expect(outcome.ok).toBe(false);
    // The engine prints each violation as "[mandatory] <policy> (<type>: <name>)", then the message.
    expect(outcome.output).toMatch(/\[mandatory\]\s+dpl-production-pool-redundancy\s+\(\S+dpl:Pool: prod\)[\s\S]*raidLevel is raid0/);
    expect(outcome.output).toMatch(/\[mandatory\]\s+dpl-volume-size-cap\s+\(\S+dpl:Volume: data\)[\s\S]*2048 GiB, over the cap of 1024 GiB/);
    expect(outcome.output).toMatch(/\[mandatory\]\s+dpl-export-access-control\s+\(\S+dpl:ISCSIExport: data\)[\s\S]*chap must be set/);
    expect(await client.listPools()).toHaveLength(pools);
  });

  it("passes a compliant program, which then applies under the same pack", async () => {
    const compliant: Shape = { raidLevel: "raid1", sizeGib: 1, chap: true };
    const outcome = await previewWithPolicy(compliant);
    expect(outcome.output).not.toMatch(/dpl-[a-z-]+\s*\(/);
    expect(outcome.ok).toBe(true);
    stack.writeProgram(program(compliant));
    await stack.stack.up({ policyPacks: [policyPack], onOutput: () => undefined });
    const [volume, ...others] = await client.listVolumes();
    expect(others).toEqual([]);
    expect((await client.getVolume(volume?.id ?? "none"))?.metadata.total_capacity).toBe(2 ** 30);
  });

  it("follows its config: a lower cap refuses what passed, an advisory policy only warns", async () => {
    const lowerCap = await previewWithPolicy({ raidLevel: "raid1", sizeGib: 2, chap: true }, { "dpl-volume-size-cap": { maxSizeGib: 1 } });
    expect(lowerCap.ok).toBe(false);
    expect(lowerCap.output).toMatch(/dpl-volume-size-cap[\s\S]*over the cap of 1 GiB/);

    const advisory = await previewWithPolicy({ raidLevel: "raid1", sizeGib: 1, chap: false }, { "dpl-export-access-control": "advisory" });
    expect(advisory.ok).toBe(true);
    expect(advisory.output).toMatch(/\[advisory\]\s+dpl-export-access-control\s+\(\S+dpl:ISCSIExport: data\)[\s\S]*chap must be set/);
  });

  it("refuses a config the policy's schema does not allow, naming the property", async () => {
    const outcome = await previewWithPolicy({ raidLevel: "raid1", sizeGib: 1, chap: true }, { "dpl-volume-size-cap": { maxSizeGib: "big" } });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatch(/maxSizeGib/);
  });
});
