/**
 * The last step of scripts/test-all.sh: after the tests and the benchmark smoke run, nothing of
 * the run (marker $DPL_TEST_RUN) may be left. Exits 1 naming what it found (and removed).
 */
import { RUN_MARKER, reapLeftovers } from "./leftovers";

async function main(): Promise<void> {
  const marker = process.env[RUN_MARKER];
  if (marker === undefined || marker === "") throw new Error(`${RUN_MARKER} is not set: nothing marks this run's processes`);
  const left = await reapLeftovers(marker);
  if (left.length > 0) {
    console.error(`check-leftovers: the run left ${left.length} thing(s) behind (now removed):\n  ${left.join("\n  ")}`);
    process.exit(1);
  }
  console.error("check-leftovers: no process, mount or loop device of this run is left");
}

main().catch((err: unknown) => {
  console.error(`check-leftovers: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
