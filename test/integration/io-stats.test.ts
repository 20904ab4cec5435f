/**
 * I/O statistics driven by real iSCSI I/O: a user-space initiator writes and reads a volume, and
 * the volume's counters (tgtd's per-session counters, summed) and its pool's (block counters of
 * the pool's loop device) move by at least what was transferred, on REST and on /metrics. While a
 * writer runs, the rates are positive and the pool reports a latency; the volume's totals stay
 * after its session logs out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import type { IoStatsReply } from "../../provider/src/wire";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { QemuIoSession } from "../support/iscsi-initiator";
import { clientFor, MiB } from "../reliability/test-client";

const initiator = "iqn.2025-01.org.opendpl.test:io-stats";
const volumeId = "d7000000000000000000000000000001";

let server: RunningServer;
let client: DplClient;
let session: QemuIoSession | undefined;

beforeAll(async () => {
  server = await startServer({ extraArgs: ["--per-volume-metrics"] });
  client = clientFor(server);
  // direct: every write and read reaches the pool's device, none stays in tgtd's page cache.
  await client.createVolume(volumeId, { poolId: server.poolId, sizeBytes: 256 * MiB, cacheMode: "direct" });
  const { connections } = await client.assignIscsi(volumeId, { initiators: [initiator] });
  const c = connections[0];
  if (c === undefined) throw new Error("no connection info");
  session = await QemuIoSession.open({ portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator });
});
afterAll(async () => {
  await session?.close().catch(() => undefined);
  await client.close();
  await server.stop();
});

async function stats(kind: "pool" | "volume"): Promise<IoStatsReply["metadata"]> {
  const reply = kind === "pool" ? await client.poolIoStats(server.poolId) : await client.volumeIoStats(volumeId);
  if (reply === undefined) throw new Error(`no ${kind} statistics`);
  return reply.metadata;
}

function liveSession(): QemuIoSession {
  if (session === undefined) throw new Error("no session");
  return session;
}

describe("I/O statistics", () => {
  it("count the bytes and commands an initiator writes and reads, per volume and per pool", async () => {
    const volumeBefore = await stats("volume");
    const poolBefore = await stats("pool");
    expect(await liveSession().command("write -P 0x3c 0 16M")).toContain("wrote 16777216/16777216 bytes");
    expect(await liveSession().command("read -P 0x3c 0 8M")).toContain("read 8388608/8388608 bytes");
    // Past the one-second sample cache with a second to spare, so the sample served began after the
    // read ended (a background sample that began during it could miss its last bytes).
    await new Promise((r) => setTimeout(r, 2000));
    const volumeAfter = await stats("volume");
    const poolAfter = await stats("pool");

    expect(volumeAfter.write.bytes - volumeBefore.write.bytes).toBeGreaterThanOrEqual(16 * MiB);
    expect(volumeAfter.write.ops - volumeBefore.write.ops).toBeGreaterThanOrEqual(1);
    expect(volumeAfter.read.bytes - volumeBefore.read.bytes).toBeGreaterThanOrEqual(8 * MiB);
    expect(volumeAfter.read.average_latency_ms).toBeNull();
    expect(volumeAfter.latency_source).toMatch(/tgtd/);
    expect(poolAfter.write.bytes - poolBefore.write.bytes).toBeGreaterThanOrEqual(16 * MiB);
    expect(poolAfter.read.bytes - poolBefore.read.bytes).toBeGreaterThanOrEqual(8 * MiB);

    const metrics = (await dplRequest(server, "GET", "/metrics")).text;
    const series = (name: string, labels: string): number => {
      const match = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, "m").exec(metrics);
      if (match === null) throw new Error(`${name}{${labels}} missing from /metrics`);
      return Number(match[1]);
    };
    expect(series("dpl_volume_io_bytes_total", `volume="${volumeId}",direction="write"`)).toBeGreaterThanOrEqual(16 * MiB);
    expect(series("dpl_volume_io_ops_total", `volume="${volumeId}",direction="read"`)).toBeGreaterThanOrEqual(1);
    expect(series("dpl_pool_io_bytes_total", `pool="${server.poolId}",direction="write"`)).toBeGreaterThanOrEqual(16 * MiB);
    expect(series("dpl_pool_io_time_seconds_total", `pool="${server.poolId}",direction="write"`)).toBeGreaterThan(0);
  });

  it("report positive rates over the window while a writer runs, and a pool write latency", async () => {
    const writing = { stop: false };
    const writer = (async () => {
      for (let offset = 0; !writing.stop; offset = (offset + MiB) % (128 * MiB)) await liveSession().command(`write -P 0x4d ${offset} 1M`);
    })();
    try {
      await new Promise((r) => setTimeout(r, 1200));
      await stats("volume");
      await new Promise((r) => setTimeout(r, 1200));
      const volume = await stats("volume");
      const pool = await stats("pool");
      expect(volume.window_seconds).toBeGreaterThanOrEqual(1);
      expect(volume.write.ops_per_second).toBeGreaterThan(0);
      expect(volume.write.bytes_per_second).toBeGreaterThan(MiB);
      expect(pool.window_seconds).toBeGreaterThanOrEqual(1);
      expect(pool.write.bytes_per_second).toBeGreaterThan(MiB);
      expect(pool.write.average_latency_ms).toBeGreaterThan(0);
    } finally {
      writing.stop = true;
      await writer;
    }
  });

  it("keep a volume's totals after its session logs out", async () => {
    // Past the sample cache, so `before` counts the last test's final write: a cached sample could
    // lack it, and a background sample taken before the logout would then add it.
    await new Promise((r) => setTimeout(r, 2000));
    const before = await stats("volume");
    await liveSession().close();
    session = undefined;
    await new Promise((r) => setTimeout(r, 1100));
    const after = await stats("volume");
    expect(after.write.bytes).toBe(before.write.bytes);
    expect(after.read.bytes).toBe(before.read.bytes);
    expect(after.write.bytes).toBeGreaterThan(16 * MiB);
  });
});
