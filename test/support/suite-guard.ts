/**
 * vitest's global setup: makes the scratch dir, marks every process of this run (the marker is inherited by the
 * workers, the servers, tgtd, pulumi and its plugins), and at the end fails the run naming any
 * process, mount or loop device the tests left behind.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { RUN_MARKER, reapLeftovers } from "./leftovers";

export function setup(): void {
  // scripts/test-all.sh sets it for the whole run (the benchmarks too); a bare `vitest` gets its own.
  process.env[RUN_MARKER] ??= randomUUID();
  // Every test keeps its scratch state under <repo>/.work, whichever file happens to run first.
  mkdirSync(resolve(__dirname, "..", "..", ".work"), { recursive: true });
}

export async function teardown(): Promise<void> {
  const left = await reapLeftovers(process.env[RUN_MARKER] ?? "");
  if (left.length > 0) throw new Error(`the tests left ${left.length} thing(s) behind (now removed):\n  ${left.join("\n  ")}`);
}
