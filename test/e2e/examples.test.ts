/**
 * Every example program under examples/ deploys against a fresh DPL server and destroys cleanly.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, createReadStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack } from "./pulumi-stack";

const examplesDir = resolve(__dirname, "..", "..", "examples");
const MIB = 2 ** 20;
/** Where the image-import-export example downloads its image from (a loopback server started below). */
let imageUrl = "";
/** The replication example's DR server (a second server started below). */
let dr: RunningServer;

const EXAMPLES: { name: string; config: Record<string, string>; secretConfig?: Record<string, string>; check: (outputs: Record<string, unknown>, client: DplClient) => Promise<void> | void }[] = [
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
    name: "image-import-export",
    get config() {
      return { imageUrl };
    },
    check: async (out, client) => {
      expect(out.baseSizeBytes).toBe(64 * MIB);
      expect(Number(out.baseUsedBytes)).toBeLessThan(4 * MIB);
      expect(Number(out.qcow2FileBytes)).toBeLessThan(4 * MIB);
      expect(out.workerSizeBytes).toBe(1024 * MIB);
      expect(String(out.downloadQcow2)).toMatch(/^\/v1\/dpl_image\/[0-9a-f]{32}\/content$/);
      expect((await client.listImages()).images).toHaveLength(2);
    },
  },
  {
    name: "mirrored-compressed-pool",
    // Its pool and volume are protected by default; the test destroys them.
    config: { keepData: "false" },
    check: async (out, client) => {
      const pool = await client.getPool(String(out.poolId));
      expect(pool?.metadata.properties).toEqual({ raid_level: "raid1", compression: "zstd" });
      expect(out.state).toBe("Online");
      expect(out.deviceStates).toEqual(["Online", "Online"]);
      expect(pool?.metadata.maintenance_schedule).toEqual({ scrub_every_seconds: 30 * 86_400, dedupe_every_seconds: 7 * 86_400 });
      expect(Date.parse(String(out.nextScrubAt))).toBeGreaterThan(Date.now() + 29 * 86_400_000);
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
    name: "replication",
    get config() {
      return { drUrl: dr.url, drUsername: dr.username, drCaCertificate: dr.caPem, drPool: dr.poolId, failover: "true" };
    },
    get secretConfig() {
      return { drPassword: dr.password };
    },
    check: async (out) => {
      const drClient = new DplClient({ endpoint: dr.url, username: dr.username, password: dr.password, ca: dr.caPem });
      try {
        const onDr = await drClient.getReplication(String(out.replication));
        expect(onDr?.metadata).toMatchObject({ role: "target", state: "promoted" });
        expect([...(onDr?.metadata.volumes ?? []).map((v) => v.volume)].sort()).toEqual([...(out.replicas as string[])].sort());
        expect(String(out.promotedAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
      } finally {
        await drClient.close();
      }
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
    server = await startServer({ embeddedPoolSize: "8GiB", extraArgs: ["--allow-image-url-network", "127.0.0.0/8"] }); // the image server is on loopback
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    imageUrl = await serveSmallQcow2(cleanups);
    dr = await startServer({ embeddedPoolSize: "4GiB" });
    cleanups.add(() => dr.stop());
  });
  afterAll(() => cleanups.run());

  for (const example of EXAMPLES) {
    it(`${example.name} deploys and destroys`, async () => {
      const program = await createProgramStack(example.name, undefined, server, example.config, resolve(examplesDir, example.name));
      try {
        for (const [key, value] of Object.entries(example.secretConfig ?? {})) await program.stack.setConfig(key, { value, secret: true });
        const result = await program.stack.up({ onOutput: () => undefined });
        await example.check(Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown])), client);
        await program.stack.destroy({ onOutput: () => undefined });
        expect(await client.listVolumes()).toEqual([]);
        expect((await client.listImages()).images).toEqual([]);
        expect((await client.listPools()).map((p) => p.id)).toEqual([server.poolId]);
      } finally {
        await program.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
        await program.remove();
      }
    });
  }
});

/** A 64 MiB qcow2 image (1 MiB of data) served over loopback HTTP; returns its URL. */
async function serveSmallQcow2(cleanups: Cleanups): Promise<string> {
  const dir = mkdtempSync(join(resolve(__dirname, "..", "..", ".work"), "example-image-"));
  cleanups.add(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const raw = join(dir, "base.raw");
  const qcow2 = join(dir, "base.qcow2");
  execFileSync("qemu-img", ["create", "-f", "raw", raw, String(64 * MIB)]);
  execFileSync("dd", ["if=/dev/urandom", `of=${raw}`, "bs=1M", "count=1", "seek=8", "conv=notrunc", "status=none"]);
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
  const http = createServer((request, response) => {
    response.writeHead(200, { "content-length": String(statSync(qcow2).size) });
    if (request.method === "HEAD") response.end();
    else createReadStream(qcow2).pipe(response);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  cleanups.add(() => new Promise<void>((r) => {
    http.close(() => { r(); });
  }));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/base.qcow2`;
}
