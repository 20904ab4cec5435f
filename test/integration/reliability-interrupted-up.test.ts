/**
 * Reliability: interrupted deployments. The `pulumi` CLI is killed with SIGKILL at random points
 * of an `up` (a seeded number of finished resources in, plus a few ms, so creates are in flight),
 * several times in a row; then `cancel` (the dead CLI's lock), `refresh` (clearing pending creates)
 * and `up` must converge: every
 * declared object exists exactly once on the server (no twin of an object an interrupted create
 * had already made), nothing undeclared is left, and data written before is intact.
 * CI: 2 interruptions; DPL_RELIABILITY_FULL=1: 6.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { DplClient } from "../../provider/src/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "../e2e/cleanups";
import { holdsPattern, writePattern } from "../e2e/iscsi-data";
import { createProgramStack, type ProgramStack } from "../e2e/pulumi-stack";
import { byMode, FULL_MODE, SeededRandom, sleep } from "../reliability/fault-mode";
import { findInconsistencies, readRecords } from "../reliability/server-audit";
import { clientFor } from "../reliability/test-client";

const INTERRUPTIONS = byMode(2, 6);
const HOST = "iqn.2026-01.com.example:interrupted";
const MIB = 2 ** 20;

/** The base program (one exported volume holding data) plus `extra` volumes with snapshot, clone and export each. */
function program(poolId: string, extra: number): string {
  const lines = [
    `import * as dpl from "@prophetstor/pulumi-dpl";`,
    `const pool = ${JSON.stringify(poolId)};`,
    `const keep = new dpl.Volume("keep", { pool, sizeBytes: ${64 * MIB} });`,
    `const keepExport = new dpl.ISCSIExport("keep", { volume: keep, initiators: [${JSON.stringify(HOST)}] });`,
    `export const keepOpts = keepExport.connection.qemuImageOpts;`,
  ];
  for (let i = 0; i < extra; i++) {
    lines.push(
      `const v${i} = new dpl.Volume("v${i}", { pool, sizeBytes: ${(32 + i) * MIB}, thin: ${i % 2 === 0} });`,
      `const s${i} = new dpl.Snapshot("s${i}", { volume: v${i} });`,
      `new dpl.Clone("c${i}", { sourceVolume: v${i}, sourceSnapshot: s${i} });`,
      `new dpl.ISCSIExport("e${i}", { volume: v${i}, initiators: [${JSON.stringify(HOST)}] });`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The `pulumi` CLI processes running in the program dir. */
function pulumiProcesses(dir: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
      if (!/(^|\/)pulumi$/.test(argv0)) continue;
      if (readlinkSync(`/proc/${pid}/cwd`) === dir) pids.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

describe("pulumi up killed at random points", () => {
  let server: RunningServer;
  let client: DplClient;
  let stack: ProgramStack;
  const cleanups = new Cleanups();

  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => server.stop());
    client = clientFor(server);
    cleanups.add(() => client.close());
    stack = await createProgramStack("interrupted", program(server.poolId, 0), server);
    cleanups.add(() => stack.remove());
    cleanups.add(() => stack.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("refresh + up converge after each kill: no twins, no leftovers, data intact", async () => {
    const first = await stack.stack.up({ onOutput: () => undefined });
    const keepOpts = String(first.outputs.keepOpts?.value);
    await writePattern(keepOpts, 0x3e, 0, 4 * MIB);

    const random = new SeededRandom(FULL_MODE ? 99 : 7);
    const extra = byMode(3, 4);
    stack.writeProgram(program(server.poolId, extra));
    const expectedResources = 2 + 4 * extra;
    const killedAfter: number[] = [];
    const reaped: string[] = [];
    for (let round = 0; round < INTERRUPTIONS; round++) {
      // Alternate between growing and shrinking the program, so creates and deletes are both cut short.
      stack.writeProgram(program(server.poolId, round % 2 === 0 ? extra : 1));
      let finished = 0;
      const killAt = random.int(1, 6);
      // Set by the event callback; `as boolean` keeps TypeScript from narrowing it to false here.
      let killed = false as boolean;
      let killedCli = false as boolean;
      const onEvent = (event: EngineEvent): void => {
        if (event.resOutputsEvent === undefined || killed) return;
        finished++;
        if (finished < killAt) return;
        killed = true;
        void sleep(random.int(0, 300)).then(() => {
          const pids = pulumiProcesses(stack.dir);
          for (const pid of pids) process.kill(pid, "SIGKILL");
          // An up that finished within the delay was not interrupted after all.
          killedCli ||= pids.length > 0;
        });
      };
      const outcome = await stack.stack.up({ onOutput: () => undefined, onEvent }).then(() => "completed", (e: unknown) => `killed: ${String(e).slice(0, 200)}`);
      killedAfter.push(killedCli ? killAt : -1);
      if (!killedCli) expect(outcome).toBe("completed");
      // The providers the dead CLI started may still finish a call they had begun; then whatever
      // the dead CLI started is reaped, as an operator's machine would after a crash (an
      // orphaned provider host otherwise lives on after the suite).
      await sleep(2_000);
      if (killedCli) reaped.push(...(await stack.reapProcesses()));
      // What an operator does after a crashed CLI: drop its lock (`pulumi cancel`), then refresh.
      if (killedCli) await stack.stack.cancel();
      await stack.stack.refresh({ onOutput: () => undefined, clearPendingCreates: true });
    }

    stack.writeProgram(program(server.poolId, extra));
    await stack.stack.refresh({ onOutput: () => undefined, clearPendingCreates: true });
    const converged = await stack.stack.up({ onOutput: () => undefined });
    const again = await stack.stack.up({ onOutput: () => undefined });
    console.log(`interruptions after ${JSON.stringify(killedAfter)} finished resources; ${reaped.length} processes of killed CLIs reaped; final up: ${JSON.stringify(converged.summary.resourceChanges)}; second: ${JSON.stringify(again.summary.resourceChanges)}`);
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);

    // Exactly the declared objects: 1 + extra volumes and extra clones, extra snapshots, 1 + extra exports.
    const state = await stack.stack.exportStack();
    const resources = (state.deployment as { resources?: Array<{ type: string; id?: string }> }).resources ?? [];
    const ids = (type: string): string[] => resources.filter((r) => r.type.endsWith(type)).map((r) => r.id ?? "").sort();
    const volumeIds = [...ids(":Volume"), ...ids(":Clone")].sort();
    expect(resources.filter((r) => !r.type.startsWith("pulumi:")).length).toBe(expectedResources);
    expect((await client.listVolumes()).map((v) => v.id).sort(), "volumes on the server vs in the state").toEqual(volumeIds);
    const records = readRecords(server.stateDir);
    expect(records.snapshots.map((s) => s.id).sort(), "snapshots on the server vs in the state").toEqual(ids(":Snapshot"));
    expect(records.exportIqns.length).toBe(1 + extra);
    expect(await findInconsistencies(server)).toEqual([]);
    expect(await holdsPattern(keepOpts, 0x3e, 0, 4 * MIB)).toBe(true);
  }, FULL_MODE ? 3_600_000 : 600_000);
});
