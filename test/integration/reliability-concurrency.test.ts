/**
 * Reliability: 32 clients at once, each with its own connection pool, for a bounded time
 * (CI 45 s; DPL_RELIABILITY_FULL=1: 5 minutes). Each runs create → export → snapshot → clone →
 * deletes on its own volumes, and all of them hammer one shared volume with extends, snapshots and
 * export assignments. Checks: only expected errors, no lost update on the shared volume (its size
 * is the largest acknowledged extend, its ACL holds every acknowledged initiator, every
 * acknowledged snapshot exists), unique targets, and nothing left over at the end.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplError, type DplClient } from "../../provider/src/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { byMode, FULL_MODE } from "../reliability/fault-mode";
import { findInconsistencies, findTgtd, readRecords, tgtdTargets } from "../reliability/server-audit";
import { clientFor, MiB } from "../reliability/test-client";

const CLIENTS = 32;
const DURATION_MS = byMode(45_000, 300_000);
const shared = "d5000000000000000000000000000000";
const hex = (): string => randomUUID().replace(/-/g, "");
const initiatorOf = (client: number, n: number): string => `iqn.2025-01.org.opendpl.test:c${client}-${n}`;

let server: RunningServer;
const clients: DplClient[] = [];

beforeAll(async () => {
  server = await startServer({ embeddedPoolSize: "8GiB" });
  for (let i = 0; i < CLIENTS; i++) clients.push(clientFor(server, { operationTimeoutMs: 300_000, connections: 2 }));
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

interface Tally {
  operations: number;
  expectedErrors: Map<string, number>;
  unexpected: string[];
  sharedSizes: number[];
  sharedInitiators: string[];
  sharedSnapshots: string[];
  createdIds: string[];
}

function codeOf(e: unknown): string {
  return e instanceof DplError ? e.code ?? e.name : e instanceof Error ? e.message : String(e);
}

describe("32 clients at once", () => {
  it("only expected errors, no lost updates on a shared volume, nothing leaked", async () => {
    const setup = clients[0];
    if (setup === undefined) throw new Error("no client");
    await setup.createVolume(shared, { poolId: server.poolId, sizeBytes: 64 * MiB });
    const tally: Tally = { operations: 0, expectedErrors: new Map(), unexpected: [], sharedSizes: [], sharedInitiators: [], sharedSnapshots: [], createdIds: [] };
    let nextSize = 64;
    const stopAt = Date.now() + DURATION_MS;

    const expectError = async (what: string, allowed: string[], op: () => Promise<unknown>): Promise<boolean> => {
      tally.operations++;
      try {
        await op();
        return true;
      } catch (e) {
        const code = codeOf(e);
        if (allowed.includes(code)) tally.expectedErrors.set(`${what}:${code}`, (tally.expectedErrors.get(`${what}:${code}`) ?? 0) + 1);
        else tally.unexpected.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
    };

    const run = async (index: number, client: DplClient): Promise<void> => {
      let round = 0;
      while (Date.now() < stopAt) {
        round++;
        const volume = hex();
        const snapshot = hex();
        const clone = hex();
        tally.createdIds.push(volume, snapshot, clone);
        // Own objects: nothing but success is expected.
        const ok = await expectError("create", [], () => client.createVolume(volume, { poolId: server.poolId, sizeBytes: 16 * MiB, thin: round % 3 !== 0 }));
        if (ok) {
          await expectError("assign", [], () => client.assignIscsi(volume, { initiators: [initiatorOf(index, round)] }));
          await expectError("snapshot", [], () => client.createSnapshot(volume, snapshot));
          await expectError("clone", [], () => client.cloneVolume(clone, volume));
          await expectError("extend", [], () => client.extendVolume(clone, 32 * MiB));
          await expectError("delete snapshot", [], () => client.deleteSnapshot(volume, snapshot));
          await expectError("delete clone", [], () => client.deleteVolume(clone));
          await expectError("delete volume", [], () => client.deleteVolume(volume));
        }
        // The shared volume: concurrent read-modify-writes the server must serialise.
        const size = (nextSize += 1) * MiB;
        // A smaller size than one already applied is a shrink, refused; that is the only expected error.
        if (await expectError("shared extend", ["INVALID_ARGUMENT"], () => client.extendVolume(shared, size))) tally.sharedSizes.push(size);
        const initiator = initiatorOf(index, 1000 + round);
        if (await expectError("shared assign", [], () => client.assignIscsi(shared, { initiators: [initiator] }))) tally.sharedInitiators.push(initiator);
        if (round % 4 === 0) {
          const sharedSnapshot = hex();
          if (await expectError("shared snapshot", [], () => client.createSnapshot(shared, sharedSnapshot))) tally.sharedSnapshots.push(sharedSnapshot);
        }
      }
    };
    const started = Date.now();
    await Promise.all(clients.map((c, i) => run(i, c)));
    const seconds = (Date.now() - started) / 1000;

    console.log(`${CLIENTS} clients, ${seconds.toFixed(0)} s: ${tally.operations} operations (${(tally.operations / seconds).toFixed(1)}/s), ` +
      `expected errors ${JSON.stringify(Object.fromEntries(tally.expectedErrors))}, unexpected ${tally.unexpected.length}`);
    expect(tally.unexpected).toEqual([]);
    expect(tally.operations).toBeGreaterThan(CLIENTS * (FULL_MODE ? 20 : 5));
    expect(new Set(tally.createdIds).size).toBe(tally.createdIds.length);

    // No lost update on the shared volume.
    const final = await setup.getVolume(shared);
    expect(final?.metadata.total_capacity).toBe(Math.max(...tally.sharedSizes));
    const acl = (final?.exports["Network/iSCSI"] ?? []).flatMap((e) => e.permissions.flatMap((p) => Object.keys(p))).sort();
    expect(acl).toEqual([...tally.sharedInitiators].sort());
    expect((await setup.listSnapshots(shared)).map((s) => s.id).sort()).toEqual([...tally.sharedSnapshots].sort());

    // Unique targets: one tgtd target per export, each IQN and tid once.
    const records = readRecords(server.stateDir);
    const tgtd = findTgtd(server);
    if (tgtd === undefined) throw new Error("no tgtd");
    const served = await tgtdTargets(tgtd.controlPort);
    expect(new Set(served).size).toBe(served.length);
    expect(served.sort()).toEqual([...records.exportIqns].sort());

    // Nothing leaked: only the shared volume and its snapshots remain.
    expect((await setup.listVolumes()).map((v) => v.id)).toEqual([shared]);
    expect(records.snapshots.map((s) => s.id).sort()).toEqual([...tally.sharedSnapshots].sort());
    expect(await findInconsistencies(server)).toEqual([]);
    for (const id of tally.sharedSnapshots) await setup.deleteSnapshot(shared, id);
    await setup.deleteVolume(shared);
    expect(readRecords(server.stateDir).volumes).toEqual([]);
    expect(await findInconsistencies(server)).toEqual([]);
  }, FULL_MODE ? 1_800_000 : 300_000);
});
