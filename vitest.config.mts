import { defineConfig } from "vitest/config";

// Sources resolve through the packages' "source" export condition (TypeScript, no build needed).
const resolve = { conditions: ["source"] };

/** Unit-sized tests of the engines that need root: btrfs, loop devices, tgtd. */
const ENGINE_TESTS = [
  "server/src/engines/btrfs/btrfs-pool-engine.test.ts",
  "server/src/engines/btrfs/btrfs-pool-engine.measure.test.ts",
  "server/src/engines/engines-together.test.ts",
  "server/src/engines/tgt/tgt-target-engine.test.ts",
];

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
        // No root, no btrfs, no tgtd: the core and the routes run on in-memory engines
        // (test/support/in-memory-engines.ts). `npm run test:unit` before pushing.
        test: {
          name: "unit",
          include: ["provider/src/**/*.test.ts", "native-provider/src/**/*.test.ts", "server/src/**/*.test.ts", "sdk/src/**/*.test.ts", "policy/**/*.test.ts", "bench/**/*.test.ts", "test/unit/**/*.test.ts"],
          exclude: [...ENGINE_TESTS, "**/node_modules/**"],
          testTimeout: 60_000,
        },
      },
      {
        resolve,
        // The engines on the real thing: btrfs on loop devices and tgtd (root).
        test: { name: "engines", include: ENGINE_TESTS, testTimeout: 120_000 },
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
