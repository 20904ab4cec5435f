import { defineConfig } from "vitest/config";

// Sources resolve through the packages' "source" export condition (TypeScript, no build needed).
const resolve = { conditions: ["source"] };

export default defineConfig({
  test: {
    // Integration and e2e files each start their own server, tgtd and btrfs pool; on two cores
    // they run one file at a time.
    fileParallelism: false,
    // Marks the run's processes and fails it naming anything the tests left behind.
    globalSetup: ["test/support/suite-guard.ts"],
    projects: [
      {
        resolve,
        test: { name: "unit", include: ["provider/src/**/*.test.ts", "server/src/**/*.test.ts", "sdk/src/**/*.test.ts", "policy/**/*.test.ts", "bench/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        resolve,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        resolve,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
