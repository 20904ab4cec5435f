/**
 * Looks at a DPL server from outside its API: its SQLite records, its pool directories, its tgtd
 * (through tgtadm on the server's control port) and the loop devices backing its pool images.
 * Reliability tests compare these to each other and to what clients were told.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import type { RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);

export interface TgtdProcess {
  pid: number;
  controlPort: number;
}

/** The tgtd serving this server's portal (its cmdline names `portal=<host:port>`). */
export function findTgtd(server: Pick<RunningServer, "portal">): TgtdProcess | undefined {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (args[0]?.endsWith("tgtd") !== true || !args.includes(`portal=${server.portal}`)) continue;
    let state = "";
    try {
      state = readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] ?? "";
    } catch {
      continue;
    }
    if (state === "Z") continue;
    const portIndex = args.indexOf("-C");
    return { pid: Number(pid), controlPort: Number(args[portIndex + 1]) };
  }
  return undefined;
}

/** Target IQNs tgtd serves, from `tgtadm --lld iscsi --mode target --op show -C <port>`. */
export async function tgtdTargets(controlPort: number): Promise<string[]> {
  const { stdout } = await execFileAsync("tgtadm", ["--lld", "iscsi", "--mode", "target", "--op", "show", "-C", String(controlPort)], { timeout: 30_000 });
  return [...stdout.matchAll(/^Target \d+: (\S+)$/gm)].map((m) => m[1] ?? "");
}

interface RecordIds {
  volumes: Array<{ id: string; poolId: string; state: string }>;
  snapshots: Array<{ id: string; poolId: string; state: string }>;
  exportIqns: string[];
  /** Events neither Complete nor Error. */
  unfinishedEvents: number;
  eventCount: number;
  poolIds: string[];
}

/** The server's records, read with a read-only connection (WAL lets it read while the server writes). */
export function readRecords(stateDir: string): RecordIds {
  const db = new Database(join(stateDir, "metadata.db"), { readonly: true, fileMustExist: true });
  try {
    return {
      volumes: db.prepare("SELECT id, pool_id AS poolId, state FROM volumes").all() as RecordIds["volumes"],
      snapshots: db.prepare("SELECT id, pool_id AS poolId, state FROM snapshots").all() as RecordIds["snapshots"],
      exportIqns: (db.prepare("SELECT iqn FROM exports").all() as Array<{ iqn: string }>).map((r) => r.iqn),
      unfinishedEvents: (db.prepare("SELECT count(*) AS n FROM events WHERE status NOT IN ('Complete', 'Error')").get() as { n: number }).n,
      eventCount: (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n,
      poolIds: (db.prepare("SELECT id FROM pools").all() as Array<{ id: string }>).map((r) => r.id),
    };
  } finally {
    db.close();
  }
}

function directories(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Loop devices whose backing file lies in the server's state dir. */
export async function loopDevicesOf(stateDir: string): Promise<string[]> {
  const { stdout } = await execFileAsync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { timeout: 10_000 });
  return stdout.split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[1]?.startsWith(`${stateDir}/`) === true).map((f) => f[0] ?? "");
}

function imageFiles(stateDir: string): string[] {
  const dir = join(stateDir, "images");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith(".img")).map((e) => e.name);
}

/**
 * Everything that exists without a record (or a record without its thing), as readable lines;
 * empty when the server is consistent. Meant for a quiet server (no job running).
 */
export async function findInconsistencies(server: RunningServer): Promise<string[]> {
  const problems: string[] = [];
  const records = readRecords(server.stateDir);
  if (records.unfinishedEvents > 0) problems.push(`${records.unfinishedEvents} events neither Complete nor Error`);
  for (const v of records.volumes) if (v.state !== "available") problems.push(`volume ${v.id} is ${v.state}`);
  for (const s of records.snapshots) if (s.state !== "available") problems.push(`snapshot ${s.id} is ${s.state}`);
  for (const poolId of records.poolIds) {
    const root = join(server.stateDir, "pools", poolId);
    const volumesOnDisk = new Set(directories(join(root, "volumes")));
    const snapshotsOnDisk = new Set(directories(join(root, "snapshots")));
    const volumeRecords = new Set(records.volumes.filter((v) => v.poolId === poolId).map((v) => v.id));
    const snapshotRecords = new Set(records.snapshots.filter((s) => s.poolId === poolId).map((s) => s.id));
    for (const id of volumesOnDisk) if (!volumeRecords.has(id)) problems.push(`volume dir ${id} on disk has no record`);
    for (const id of volumeRecords) if (!volumesOnDisk.has(id)) problems.push(`volume record ${id} has no dir on disk`);
    for (const id of snapshotsOnDisk) if (!snapshotRecords.has(id)) problems.push(`snapshot dir ${id} on disk has no record`);
    for (const id of snapshotRecords) if (!snapshotsOnDisk.has(id)) problems.push(`snapshot record ${id} has no dir on disk`);
  }
  const tgtd = findTgtd(server);
  if (tgtd === undefined) {
    problems.push("no tgtd serves the portal");
  } else {
    const served = new Set(await tgtdTargets(tgtd.controlPort));
    const exported = new Set(records.exportIqns);
    for (const iqn of served) if (!exported.has(iqn)) problems.push(`tgtd target ${iqn} has no export record`);
    for (const iqn of exported) if (!served.has(iqn)) problems.push(`export ${iqn} is not served by tgtd`);
  }
  const loops = await loopDevicesOf(server.stateDir);
  const images = imageFiles(server.stateDir);
  if (loops.length !== images.length) problems.push(`${loops.length} loop devices (${loops.join(", ")}) for ${images.length} pool images`);
  return problems;
}
