/**
 * Every example program under examples/ deploys against a fresh DPL server and destroys cleanly.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack } from "./pulumi-stack";

const examplesDir = resolve(__dirname, "..", "..", "examples");

const EXAMPLES: { name: string; config: Record<string, string>; check: (outputs: Record<string, unknown>, client: DplClient) => Promise<void> | void }[] = [
  {
    name: "volume-exported-to-host",
    config: { hostIqn: "iqn.2026-01.com.example:example-host", chapSecret: "example-secret-1", sizeGib: "1" },
    check: (out) => {
      expect(out.targetIqn).toMatch(/^iqn\./);
      expect(String(out.attach)).toContain("iscsiadm -m node");
    },
  },
  {
    name: "snapshot-and-clone",
    config: {},
    check: async (out, client) => {
      expect((await client.getVolume(String(out.testCopy)))?.metadata.total_capacity).toBe(4 * 2 ** 30);
      expect((await client.getVolume(String(out.scratch)))?.metadata.origin_uuid).toBe(out.golden);
    },
  },
  {
    name: "rollback",
    config: {},
    check: (out) => {
      expect(String(out.rolledBackAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
    },
  },
  {
    name: "mirrored-compressed-pool",
    config: {},
    check: async (out, client) => {
      const pool = await client.getPool(String(out.poolId));
      expect(pool?.metadata.properties).toEqual({ raid_level: "raid1", compression: "zstd" });
      expect(out.state).toBe("Online");
      expect(out.deviceStates).toEqual(["Online", "Online"]);
    },
  },
  {
    name: "pool-device-changes",
    config: { devicesGib: "0.5,0.5,0.5" },
    check: async (out, client) => {
      expect((await client.getPool(String(out.poolId)))?.metadata.devices.map((d) => d.size)).toEqual([2 ** 29, 2 ** 29, 2 ** 29]);
      expect(out.state).toBe("Online");
      expect(out.unhealthyDevices).toEqual([]);
      expect(out.deviceErrors).toBe(0);
    },
  },
  {
    name: "consistent-group-snapshot",
    config: {},
    check: async (out, client) => {
      const members = out.memberSnapshots as Record<string, string>;
      expect(Object.keys(members).sort()).toEqual([String(out.data), String(out.wal)].sort());
      expect(new Set((await client.getVolumeGroup(String(out.groupId)))?.children)).toEqual(new Set([out.data, out.wal]));
      // A clone of a snapshot names that snapshot as its origin.
      expect((await client.getVolume(String(out.restoreTest)))?.metadata.origin_uuid).toBe(members[String(out.data)]);
    },
  },
];

describe("the example programs", () => {
  let server: RunningServer;
  let client: DplClient;

  const cleanups = new Cleanups();
  beforeAll(async () => {
    server = await startServer({ embeddedPoolSize: "8GiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
  });
  afterAll(() => cleanups.run());

  for (const example of EXAMPLES) {
    it(`${example.name} deploys and destroys`, async () => {
      const program = await createProgramStack(example.name, undefined, server, example.config, resolve(examplesDir, example.name));
      try {
        const result = await program.stack.up({ onOutput: () => undefined });
        await example.check(Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown])), client);
        await program.stack.destroy({ onOutput: () => undefined });
        expect(await client.listVolumes()).toEqual([]);
        expect((await client.listPools()).map((p) => p.id)).toEqual([server.poolId]);
      } finally {
        await program.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
        await program.remove();
      }
    });
  }
});
