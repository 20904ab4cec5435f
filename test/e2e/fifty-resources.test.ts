/**
 * A program of 50 DPL resources deployed with the engine's default parallelism; the wall times
 * of up, preview, refresh and destroy are printed and written to .work/e2e-timings.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, type ProgramStack } from "./pulumi-stack";

const VOLUMES = 20;
const SNAPSHOTS = 20;
const CLONES = 10;

function fiftyResourceProgram(poolId: string): string {
  return `import * as dpl from "@prophetstor/pulumi-dpl";
const pool = ${JSON.stringify(poolId)};
const volumes = Array.from({ length: ${VOLUMES} }, (_, i) => new dpl.Volume(\`vol-\${i}\`, { pool, sizeBytes: ${64 * 2 ** 20}, name: \`scale-\${i}\` }));
const snapshots = volumes.slice(0, ${SNAPSHOTS}).map((volume, i) => new dpl.Snapshot(\`snap-\${i}\`, { volume, name: \`scale-snap-\${i}\` }));
snapshots.slice(0, ${CLONES}).forEach((snapshot, i) => new dpl.Clone(\`clone-\${i}\`, { sourceVolume: volumes[i]!, sourceSnapshot: snapshot }));
`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

describe("a program with 50 DPL resources", () => {
  let server: RunningServer;
  let client: DplClient;
  let program: ProgramStack;
  const timings: Record<string, number> = {};

  const cleanups = new Cleanups();
  beforeAll(async () => {
    cleanups.add(() => {
      const out = resolve(__dirname, "..", "..", ".work");
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "e2e-timings.json"), JSON.stringify({ resources: VOLUMES + SNAPSHOTS + CLONES, seconds: timings }, null, 2));
      console.log(`50-resource program wall times (s): ${JSON.stringify(timings)}`);
      return Promise.resolve();
    });
    server = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    program = await createProgramStack("fifty", fiftyResourceProgram(server.poolId), server);
    cleanups.add(() => program.remove());
    cleanups.add(() => program.stack.destroy({ onOutput: () => undefined }).catch(() => undefined));
  });
  afterAll(() => cleanups.run());

  it("deploys, previews clean, refreshes and destroys", async () => {
    const up = await timed(() => program.stack.up({ onOutput: () => undefined }));
    timings.up = up.seconds;
    expect(up.result.summary.resourceChanges?.create).toBe(VOLUMES + SNAPSHOTS + CLONES + 1);
    expect((await client.listVolumes()).length).toBe(VOLUMES + CLONES);

    const preview = await timed(() => program.stack.preview());
    timings.preview = preview.seconds;
    expect(Object.keys(preview.result.changeSummary)).toEqual(["same"]);

    const refresh = await timed(() => program.stack.refresh({ onOutput: () => undefined }));
    timings.refresh = refresh.seconds;
    expect(Object.keys(refresh.result.summary.resourceChanges ?? {})).toEqual(["same"]);

    const destroy = await timed(() => program.stack.destroy({ onOutput: () => undefined }));
    timings.destroy = destroy.seconds;
    expect(await client.listVolumes()).toEqual([]);
  });
});
