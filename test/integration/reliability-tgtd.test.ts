/**
 * Reliability: tgtd dies (SIGKILL) while initiators are logged in. The server must notice,
 * start it again and re-apply every export within 5 s; a logged-in initiator reconnects on its
 * own and reads its data back intact, also when tgtd died in the middle of its writes.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import { findProcesses, freezeProcess, thawProcess } from "../../server/src/engines/command";
import { startServer, type RunningServer } from "../support/dpl-server";
import { QemuIoSession, holdsPattern, writePattern, type LunAddress } from "../support/iscsi-initiator";
import { findInconsistencies, findTgtd, readRecords, tgtdTargets, type TgtdProcess } from "../reliability/server-audit";
import { clientFor, MiB } from "../reliability/test-client";
import { sleep } from "../reliability/fault-mode";

const initiator = "iqn.2025-01.org.opendpl.test:tgtd-killer";
const volumeIds = ["a1000000000000000000000000000001", "a1000000000000000000000000000002", "a1000000000000000000000000000003"];
/** The server's aim: tgtd back with every export 5 s after it died (a 1 s watchdog, a start, every export re-applied). */
const RECOVERY_TARGET_MS = 5_000;
/** Re-applying an export takes about ten tgtadm runs, each slower on a busy machine. */
const BUSY_MACHINE_ROOM_MS = 3_000;
const RECOVERY_BOUND_MS = RECOVERY_TARGET_MS + BUSY_MACHINE_ROOM_MS;

let server: RunningServer;
let client: DplClient;
const luns = new Map<string, LunAddress>();
const sessions: QemuIoSession[] = [];

beforeAll(async () => {
  server = await startServer();
  client = clientFor(server);
  for (const id of volumeIds) {
    await client.createVolume(id, { poolId: server.poolId, sizeBytes: 64 * MiB });
    const { connections } = await client.assignIscsi(id, { initiators: [initiator] });
    const c = connections[0];
    if (c === undefined) throw new Error("no connection info");
    luns.set(id, { portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator });
  }
});
afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  await client.close();
  await server.stop();
});

function lun(id: string): LunAddress {
  const address = luns.get(id);
  if (address === undefined) throw new Error(`no LUN for ${id}`);
  return address;
}

function serverTgtd(): TgtdProcess {
  const tgtd = findTgtd(server);
  if (tgtd === undefined) throw new Error("no tgtd to kill");
  return tgtd;
}

/** Fills the volume's file on the pool with `byte` (directly, not through tgtd), so a copy of it takes a while. */
async function fillBackingFile(volumeId: string, byte: number, length: number): Promise<void> {
  const file = await open(join(server.stateDir, "pools", server.poolId, "volumes", volumeId, "data"), "r+");
  try {
    const chunk = Buffer.alloc(4 * MiB, byte);
    for (let offset = 0; offset < length; offset += chunk.length) await file.write(chunk, 0, chunk.length, offset);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Pid of the `cp` a move between pools runs, as soon as it is there. */
async function moveCopyProcess(): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [pid] = findProcesses("cp", ["--sparse=always", "--reflink=never"]);
    if (pid !== undefined) return pid;
    await sleep(2);
  }
  throw new Error("no cp of a move appeared within 30 s");
}

/** Whether the volume's file on the pool (read directly, not through tgtd) holds `byte` all over the range. */
async function backingFileHolds(volumeId: string, byte: number, offset: number, length: number): Promise<boolean> {
  const file = await open(join(server.stateDir, "pools", server.poolId, "volumes", volumeId, "data"), "r");
  try {
    const data = Buffer.alloc(length);
    await file.read(data, 0, length, offset);
    return data.equals(Buffer.alloc(length, byte));
  } finally {
    await file.close();
  }
}

/**
 * Kills the server's tgtd and returns how long until tgtd serves every export again (ms). A
 * server without a working watchdog fails with the 15 s wait; the time is logged against the 5 s aim.
 */
async function killTgtdAndTimeRecovery(before: TgtdProcess = serverTgtd()): Promise<number> {
  const exported = readRecords(server.stateDir).exportIqns.sort();
  process.kill(before.pid, "SIGKILL");
  const killedAt = Date.now();
  while (Date.now() - killedAt < 15_000) {
    const now = findTgtd(server);
    if (now !== undefined && now.pid !== before.pid) {
      const served = await tgtdTargets(now.controlPort).catch(() => []);
      if (JSON.stringify(served.sort()) === JSON.stringify(exported)) {
        const ms = Date.now() - killedAt;
        console.log(`tgtd back with every export ${ms} ms after the kill (aim: ${RECOVERY_TARGET_MS} ms)`);
        return ms;
      }
    }
    await sleep(50);
  }
  throw new Error("tgtd did not come back with every export within 15 s");
}

describe("tgtd killed under logged-in initiators", () => {
  it("is restarted with every export within 5 s, and a logged-in initiator reconnects to intact data", async () => {
    const [first, second] = volumeIds;
    if (first === undefined || second === undefined) throw new Error("ids");
    const session = await QemuIoSession.open(lun(first));
    sessions.push(session);
    expect(await session.command("write -P 0x5a 0 4M")).toMatch(/wrote 4194304\/4194304 bytes/);
    await writePattern(lun(second), 0x6b, 8 * MiB, MiB);

    const recoveryMs = await killTgtdAndTimeRecovery();
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);

    // The same qemu-io, logged in before the kill, reads on: libiscsi logs in again by itself.
    const read = await session.command("read -P 0x5a 0 4M", 60_000);
    expect(read).toMatch(/read 4194304\/4194304 bytes/);
    expect(read).not.toContain("Pattern verification failed");
    expect(await session.command("write -P 0x77 4M 1M")).toMatch(/wrote 1048576\/1048576 bytes/);
    expect(await holdsPattern(lun(second), 0x6b, 8 * MiB, MiB)).toBe(true);
    expect(await holdsPattern(lun(first), 0x77, 4 * MiB, MiB)).toBe(true);
  });

  it("recovers when tgtd dies in the middle of a write, and every acknowledged write reads back", async () => {
    const third = volumeIds[2];
    if (third === undefined) throw new Error("ids");
    await writePattern(lun(third), 0x11, 0, 16 * MiB);
    const session = await QemuIoSession.open(lun(third));
    sessions.push(session);
    const tgtd = serverTgtd();
    // A first 16 MiB write acknowledged and flushed before tgtd dies (its completion line comes
    // with the write's prompt or with the flush's)...
    const acknowledged = (await session.command("aio_write -P 0x22 16M 16M", 120_000)) + (await session.command("aio_flush", 120_000));
    expect(acknowledged).toMatch(/wrote 16777216\/16777216 bytes/);
    // ...and a second (64 KiB requests) under way when it does: qemu-io queues it and prompts again
    // at once, and tgtd is stopped right then, however late this process gets to run.
    await session.command("aio_write -P 0x22 32M 16M", 120_000);
    await freezeProcess(tgtd.pid, 10_000);
    // Read while tgtd is stopped, asserted once it is killed: a failed check leaves no stopped tgtd.
    const finishedBeforeStop = await backingFileHolds(third, 0x22, 32 * MiB, 16 * MiB).catch((e: unknown) => e);
    const writing = session.command("aio_flush", 120_000);
    const recoveryMs = await killTgtdAndTimeRecovery(tgtd);
    expect(finishedBeforeStop, "the second write finished before tgtd was stopped").toBe(false);
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
    // The flush's output also carries the second write's completion (or its error).
    const out = await writing;
    expect(out).not.toMatch(/error|failed/i);
    expect(await holdsPattern(lun(third), 0x11, 0, 16 * MiB)).toBe(true);
    expect(await holdsPattern(lun(third), 0x22, 16 * MiB, 32 * MiB)).toBe(true);
  });

  it("survives kills in quick succession and ends consistent (no lost or stray targets)", async () => {
    for (let i = 0; i < 3; i++) {
      expect(await killTgtdAndTimeRecovery()).toBeLessThan(RECOVERY_BOUND_MS);
    }
    for (const id of volumeIds) expect((await client.getVolume(id))?.exports["Network/iSCSI"]?.length).toBe(1);
    expect(await findInconsistencies(server)).toEqual([]);
    // A new export made after the restarts is served too.
    const late = "a1000000000000000000000000000004";
    await client.createVolume(late, { poolId: server.poolId, sizeBytes: 16 * MiB });
    const { connections } = await client.assignIscsi(late, { initiators: [initiator] });
    const c = connections[0];
    if (c === undefined) throw new Error("no connection info");
    const address = { portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator };
    await writePattern(address, 0x33, 0, MiB);
    expect(await holdsPattern(address, 0x33, 0, MiB)).toBe(true);
  });

  it("re-applies every export while another volume's move is stuck in its copy", async () => {
    // A move holds its volume for as long as the copy runs (minutes for a big volume). Frozen
    // mid-copy here, it must not keep the other volumes' exports from coming back.
    const mover = "a1000000000000000000000000000005";
    const otherPool = "b1000000000000000000000000000001";
    await client.createPool(otherPool, { name: "move-to", devices: [{ type: "image_file", size: 1024 * MiB }] });
    await client.createVolume(mover, { poolId: server.poolId, sizeBytes: 256 * MiB });
    await fillBackingFile(mover, 0x5c, 256 * MiB);
    const moving = client.modifyVolume(mover, { moveToPool: otherPool });
    const copy = await moveCopyProcess();
    await freezeProcess(copy, 10_000);
    let recoveryMs: number;
    try {
      recoveryMs = await killTgtdAndTimeRecovery();
    } finally {
      thawProcess(copy);
    }
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await moving).metadata.pool_uuid).toBe(otherPool);
    expect(await findInconsistencies(server)).toEqual([]);
  });
});
