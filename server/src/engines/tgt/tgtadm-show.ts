/**
 * Reads tgtd's state from `tgtadm --mode target --op show` and `--mode conn --op show`: the only
 * way to learn what tgtd holds (it keeps everything in memory and has no machine-readable output).
 */
import type { LunSessionCounters } from "../../core/ports";

export interface ShownLun {
  lun: number;
  backingPath: string;
  /** "direct", "sync", "" … as tgtd prints them. */
  backingFlags: string;
}

export interface ShownTarget {
  tid: number;
  iqn: string;
  luns: ShownLun[];
  incomingAccounts: string[];
  outgoingAccounts: string[];
  acl: string[];
}

export interface ShownConnection {
  sid: number;
  cid: number;
  initiator: string;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Splits the body of one target into its 4-space-indented sections ("LUN information:" …). */
function sections(lines: string[]): Map<string, string[]> {
  const bySection = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.trim() === "") continue;
    if (indentOf(line) === 4 && line.trimEnd().endsWith(":")) {
      current = [];
      bySection.set(line.trim().slice(0, -1), current);
    } else {
      current?.push(line);
    }
  }
  return bySection;
}

function parseLuns(lines: string[]): ShownLun[] {
  const luns: ShownLun[] = [];
  let current: ShownLun | undefined;
  for (const line of lines) {
    const trimmed = line.trim();
    const lun = /^LUN: (\d+)$/.exec(trimmed);
    if (lun) {
      current = { lun: Number(lun[1]), backingPath: "", backingFlags: "" };
      luns.push(current);
    } else if (current && trimmed.startsWith("Backing store path:")) {
      current.backingPath = trimmed.slice("Backing store path:".length).trim();
    } else if (current && trimmed.startsWith("Backing store flags:")) {
      current.backingFlags = trimmed.slice("Backing store flags:".length).trim();
    }
  }
  return luns;
}

export function parseTargets(output: string): ShownTarget[] {
  const targets: ShownTarget[] = [];
  let header: RegExpExecArray | null = null;
  let body: string[] = [];
  const flush = (): void => {
    if (!header) return;
    const bySection = sections(body);
    const accounts = (bySection.get("Account information") ?? []).map((line) => line.trim());
    targets.push({
      tid: Number(header[1]),
      iqn: header[2] ?? "",
      luns: parseLuns(bySection.get("LUN information") ?? []),
      incomingAccounts: accounts.filter((account) => !account.endsWith(" (outgoing)")),
      outgoingAccounts: accounts.filter((account) => account.endsWith(" (outgoing)")).map((account) => account.slice(0, -" (outgoing)".length)),
      acl: (bySection.get("ACL information") ?? []).map((line) => line.trim()),
    });
  };
  for (const line of output.split("\n")) {
    const next = /^Target (\d+): (\S+)\s*$/.exec(line);
    if (next) {
      flush();
      header = next;
      body = [];
    } else {
      body.push(line);
    }
  }
  flush();
  return targets;
}

export function parseConnections(output: string): ShownConnection[] {
  const connections: ShownConnection[] = [];
  let sid: number | undefined;
  let cid: number | undefined;
  for (const line of output.split("\n")) {
    const trimmed = line.trim();
    const session = /^Session: (\d+)$/.exec(trimmed);
    const connection = /^Connection: (\d+)$/.exec(trimmed);
    const initiator = /^Initiator: (\S+)/.exec(trimmed);
    if (session) sid = Number(session[1]);
    else if (connection) cid = Number(connection[1]);
    else if (initiator && sid !== undefined && cid !== undefined) connections.push({ sid, cid, initiator: initiator[1] ?? "" });
  }
  return connections;
}

export function parsePortals(output: string): string[] {
  return [...output.matchAll(/^Portal: (\S+),\d+$/gm)].map((match) => match[1] ?? "");
}


/**
 * `tgtadm --mode system --op stat` (not in tgtadm's --help, present in tgt 1.0.85): one line per
 * target, LUN and session with submitted and completed bytes and commands by data direction, and
 * errors. Completed counts are kept; LUN 0 (the controller) is skipped.
 */
export function parseLunStats(output: string): LunSessionCounters[] {
  const stats: LunSessionCounters[] = [];
  for (const line of output.split("\n")) {
    const fields = line.trim().split(/\s+/).map(Number);
    if (fields.length !== 12 || fields.some((field) => !Number.isInteger(field))) continue;
    const [tid, lun, sid, , , readBytes, readOps, , , writeBytes, writeOps, errors] = fields as [number, number, number, number, number, number, number, number, number, number, number, number];
    if (lun === 0) continue;
    stats.push({ tid, lun, sid, readOps, readBytes, writeOps, writeBytes, errors });
  }
  return stats;
}
