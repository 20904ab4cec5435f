/**
 * Reliability: the server is killed with SIGKILL at random points of a seeded mix of operations
 * (create, extend, snapshot, clone, copy, assign, unassign, rollback, delete; several in flight,
 * all through the DPL client) and restarted on the same state dir. After every restart:
 *   - every acknowledged operation is there (the client saw it succeed, so it is durable),
 *   - an operation cut short left its object either before or after it, never in between,
 *   - no event is left neither Complete nor Error,
 *   - nothing is orphaned: no volume/snapshot dir without a record (or the reverse), no tgtd
 *     target without an export record (or the reverse), no loop device beyond the pool's image,
 *   - data written over iSCSI before each kill reads back intact.
 * CI: 1 seed, ~200 operations, 3 kills. DPL_RELIABILITY_FULL=1: 3 seeds, 1,000 operations and
 * 10 kills each.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { startServer, dplRequest, type RunningServer } from "../support/dpl-server";
import { CrashModel } from "../reliability/crash-workload";
import { byMode, FULL_MODE, SeededRandom, sleep } from "../reliability/fault-mode";
import { holdsPattern, writePattern, type LunAddress } from "../support/iscsi-initiator";
import { findInconsistencies, readRecords } from "../reliability/server-audit";
import { clientFor, MiB } from "../reliability/test-client";

const SEEDS = byMode([20251125], [20251125, 7, 424242]);
const OPERATIONS = byMode(200, 1000);
const KILLS = byMode(3, 10);
const IN_FLIGHT = 4;
const DATA_INITIATOR = "iqn.2025-01.org.opendpl.test:crash-data";
const DATA_VOLUME_BYTES = 32 * MiB;

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Short retries: a dead server should fail the call quickly, not be waited out. */
function crashClient(s: RunningServer): DplClient {
  return clientFor(s, { maxAttempts: 2, retryBaseDelayMs: 20, retryMaxDelayMs: 100, connectTimeoutMs: 2_000, operationTimeoutMs: 120_000 });
}

interface DataVolume {
  id: string;
  lun: LunAddress;
  /** 1 MiB slot → pattern byte written there and acknowledged by the initiator. */
  written: Map<number, number>;
}

async function makeDataVolume(client: DplClient, s: RunningServer, id: string): Promise<DataVolume> {
  await client.createVolume(id, { poolId: s.poolId, sizeBytes: DATA_VOLUME_BYTES });
  const { connections } = await client.assignIscsi(id, { initiators: [DATA_INITIATOR] });
  const c = connections[0];
  if (c === undefined) throw new Error("no connection info");
  return { id, lun: { portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator: DATA_INITIATOR }, written: new Map() };
}

async function checkAfterRestart(s: RunningServer, client: DplClient, model: CrashModel, data: DataVolume[]): Promise<void> {
  await model.settleUncertain(client);
  expect(model.unexpected, "operations that failed without a crash, or left half-done state").toEqual([]);
  expect(await findInconsistencies(s), "orphans and unfinished events").toEqual([]);
  const reconcile = await dplRequest(s, "GET", "/v1/dpl_system/reconcile/");
  const report = (reconcile.body as { metadata: { report: { unowned: unknown[]; failedExports: unknown[] } } }).metadata.report;
  expect(report.unowned, "data on disk no record owns").toEqual([]);
  expect(report.failedExports).toEqual([]);
  expect(await model.compareWithServer(client, data.map((d) => d.id)), "acknowledged operations lost").toEqual([]);
  const records = readRecords(s.stateDir);
  expect(records.snapshots.map((r) => r.id).sort(), "snapshots on the server vs acknowledged").toEqual([...model.snapshots.keys()].sort());
  for (const volume of data) {
    for (const [slot, byte] of volume.written) {
      expect(await holdsPattern(volume.lun, byte, slot * MiB, MiB), `data volume ${volume.id} slot ${slot}`).toBe(true);
    }
  }
}

describe("server killed at random points of a mixed workload", () => {
  it.each(SEEDS)("seed %i: acknowledged operations survive, nothing is orphaned, data is intact", async (seed) => {
    const s = await startServer({ embeddedPoolSize: "4GiB" });
    server = s;
    const random = new SeededRandom(seed);
    let client = crashClient(s);
    const data = [await makeDataVolume(client, s, random.hexId()), await makeDataVolume(client, s, random.hexId())];
    const model = new CrashModel(random, new Set(data.map((d) => d.id)));
    const perRound = Math.ceil(OPERATIONS / (KILLS + 1));
    let issued = 0;
    let kills = 0;

    for (let round = 0; round <= KILLS; round++) {
      for (const volume of data) {
        const slot = random.int(0, DATA_VOLUME_BYTES / MiB - 1);
        const byte = random.int(1, 255);
        await writePattern(volume.lun, byte, slot * MiB, MiB);
        volume.written.set(slot, byte);
      }
      const lastRound = round === KILLS;
      const roundTarget = lastRound ? Math.max(OPERATIONS - issued, perRound) : perRound;
      // The kill lands a random number of operations into the round, a few ms after one was sent.
      const killAfter = random.int(Math.floor(roundTarget / 2), roundTarget);
      let issuedThisRound = 0;
      let crashedAt: number | undefined;
      let killing: Promise<void> | undefined;
      const crashed = (): boolean => crashedAt !== undefined;
      const worker = async (): Promise<void> => {
        while (!crashed() && issuedThisRound < roundTarget) {
          issuedThisRound++;
          if (!lastRound && issuedThisRound === killAfter && killing === undefined) {
            const delay = random.int(0, 40);
            killing = sleep(delay).then(async () => {
              crashedAt = Date.now();
              await s.kill();
            });
          }
          const ran = await model.runOne(client, s.poolId, crashed);
          if (ran) issued++;
          else issuedThisRound--;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
      if (!lastRound) {
        // Every worker may have finished before the delayed kill fired: it still lands (on a quiet server).
        killing ??= (async () => {
          crashedAt = Date.now();
          await s.kill();
        })();
        await killing;
        kills++;
        await client.close();
        await s.restart();
        client = crashClient(s);
      }
      await checkAfterRestart(s, client, model, data);
    }

    const cut = [...model.cutShort.values()].reduce((a, b) => a + b, 0);
    const records = readRecords(s.stateDir);
    console.log(`seed ${seed}: ${issued} operations (${model.totalAcknowledged()} acknowledged, ${cut} cut short by a kill), ` +
      `${kills} kills, ${records.eventCount} events recorded; acknowledged by kind ${JSON.stringify(Object.fromEntries(model.acknowledged))}`);
    expect(issued).toBeGreaterThanOrEqual(OPERATIONS);
    expect(kills).toBe(KILLS);

    // Everything made can be deleted again, leaving nothing behind.
    for (const snapshot of [...model.snapshots.values()]) await client.deleteSnapshot(snapshot.volumeId, snapshot.id);
    for (const id of [...model.volumes.keys(), ...data.map((d) => d.id)]) await client.deleteVolume(id);
    expect(await client.listVolumes()).toEqual([]);
    const after = readRecords(s.stateDir);
    expect([after.volumes.length, after.snapshots.length, after.exportIqns.length]).toEqual([0, 0, 0]);
    expect(await findInconsistencies(s)).toEqual([]);
    await client.close();
  }, FULL_MODE ? 3_600_000 : 300_000);
});
