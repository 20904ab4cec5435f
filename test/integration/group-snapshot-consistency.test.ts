/**
 * A group snapshot is consistent at one instant as the initiator sees it. One initiator writes an
 * increasing sequence number to volume A, then (once A acknowledged it) the same number to volume
 * B, in a loop, while group snapshots are taken. Sequence number n is the 4 KiB block n filled
 * with a marker, so a volume's sequence number is its highest written block. In every group
 * snapshot B is never ahead of A and at most one behind: any other pair means writes ran between
 * the member snapshots. (Taken one after another without holding I/O, B was one ahead of A in 5
 * of 8 snapshots here.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { QemuIoSession } from "../support/iscsi-initiator";
import { clientFor, MiB } from "../reliability/test-client";

const initiator = "iqn.2025-01.org.opendpl.test:group-writer";
const volumeA = "c5000000000000000000000000000001";
const volumeB = "c5000000000000000000000000000002";
const groupId = "c5000000000000000000000000000010";
const BLOCK = 4096;
const MARKER = 0x5a;
const SNAPSHOTS = 8;

let server: RunningServer;
let client: DplClient;
const sessions: QemuIoSession[] = [];

async function openSession(volumeId: string): Promise<QemuIoSession> {
  const { connections } = await client.assignIscsi(volumeId, { initiators: [initiator] });
  const c = connections[0];
  if (c === undefined) throw new Error("no connection info");
  const session = await QemuIoSession.open({ portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator });
  sessions.push(session);
  return session;
}

beforeAll(async () => {
  server = await startServer();
  client = clientFor(server);
  for (const id of [volumeA, volumeB]) await client.createVolume(id, { poolId: server.poolId, sizeBytes: 64 * MiB });
  await client.createVolumeGroup(groupId, { volumes: [volumeA, volumeB], maximumSnapshot: 16 });
});
afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  await client.close();
  await server.stop();
});

/** The highest n such that blocks 1..n hold the marker (the file on the pool, read directly). */
function sequenceIn(snapshotId: string): number {
  const data = readFileSync(join(server.stateDir, "pools", server.poolId, "snapshots", snapshotId, "data"));
  let n = 0;
  for (;;) {
    const block = data.subarray((n + 1) * BLOCK, (n + 2) * BLOCK);
    if (block.length < BLOCK || block.some((byte) => byte !== MARKER)) return n;
    n += 1;
  }
}

describe("group snapshot of volumes an initiator is writing", () => {
  it("captures both members at one instant of the initiator's write sequence", async () => {
    const a = await openSession(volumeA);
    const b = await openSession(volumeB);
    let written = 0;
    const writing: { stop: boolean; failed?: Error } = { stop: false };
    const writer = (async () => {
      while (!writing.stop) {
        const n = written + 1;
        for (const session of [a, b]) {
          const out = await session.command(`write -P ${MARKER} ${n * BLOCK} ${BLOCK}`);
          if (!out.includes(`wrote ${BLOCK}/${BLOCK} bytes`)) throw new Error(`write ${n} failed: ${out}`);
        }
        written = n;
      }
    })();
    writer.catch((e: unknown) => {
      writing.failed = e instanceof Error ? e : new Error(String(e));
    });
    /** Waits for 50 more writes: ends with the writer's error if it stopped, never hangs. */
    const fiftyMoreWrites = async (): Promise<void> => {
      const target = written + 50;
      const deadline = Date.now() + 120_000;
      while (written < target) {
        if (writing.failed !== undefined) throw writing.failed;
        if (Date.now() > deadline) throw new Error(`the writer reached ${written} of ${target} writes in 120 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    const pairs: { a: number; b: number }[] = [];
    try {
      for (let i = 1; i <= SNAPSHOTS; i += 1) {
        await fiftyMoreWrites();
        const snapshotId = `c50000000000000000000000000001${String(i).padStart(2, "0")}`;
        const snapshot = await client.createGroupSnapshot(groupId, snapshotId);
        const memberA = snapshot.metadata.member[volumeA];
        const memberB = snapshot.metadata.member[volumeB];
        if (memberA === undefined || memberB === undefined) throw new Error(`members missing: ${JSON.stringify(snapshot.metadata.member)}`);
        pairs.push({ a: sequenceIn(memberA), b: sequenceIn(memberB) });
      }
    } finally {
      writing.stop = true;
      await writer;
    }

    // The writer really ran through every snapshot, so writes were in flight each time.
    expect(written).toBeGreaterThan(SNAPSHOTS * 50);
    for (const pair of pairs) {
      expect(pair.a, JSON.stringify(pairs)).toBeGreaterThan(0);
      expect(pair.a - pair.b, `snapshot pairs (seq A, seq B): ${JSON.stringify(pairs)}`).toBeGreaterThanOrEqual(0);
      expect(pair.a - pair.b, `snapshot pairs (seq A, seq B): ${JSON.stringify(pairs)}`).toBeLessThanOrEqual(1);
    }
  });
});
