/**
 * What a benchmark has set up (tgtd, mounts, loop devices, servers) must go away when the run is
 * interrupted too: Node runs no `finally` on SIGINT/SIGTERM. Fixtures register their release here
 * and unregister it once released normally; an interrupt releases the rest, newest first.
 */
type Release = () => Promise<unknown>;

const pending = new Set<Release>();
let installed = false;

async function releaseAllThenExit(signal: NodeJS.Signals): Promise<void> {
  process.stderr.write(`bench: ${signal}: releasing ${pending.size} fixture(s)\n`);
  for (const release of [...pending].reverse()) {
    await release().catch((error: unknown) => {
      process.stderr.write(`bench: cleanup failed: ${String(error)}\n`);
    });
  }
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/** Registers a release to run on SIGINT/SIGTERM; call the returned function once released. */
export function releaseOnSignal(release: Release): () => void {
  if (!installed) {
    installed = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        void releaseAllThenExit(signal);
      });
    }
  }
  pending.add(release);
  return () => {
    pending.delete(release);
  };
}
