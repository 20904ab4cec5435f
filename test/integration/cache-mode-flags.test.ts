/**
 * Each volume cache mode reaches tgtd: a volume exported through the server is served by a LUN
 * whose backing store flags (as `tgtadm --mode target --op show` prints them) are O_DIRECT for
 * direct, O_SYNC for writethrough and none (page cache) for writeback, also when no mode is given.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DplClient } from "../../provider/src/client";
import type { CacheMode } from "../../provider/src/wire";
import { startServer, type RunningServer } from "../support/dpl-server";
import { findTgtd } from "../reliability/server-audit";
import { clientFor, MiB } from "../reliability/test-client";

const execFileAsync = promisify(execFile);
const initiator = "iqn.2025-01.org.opendpl.test:cache-modes";

const CASES: { volumeId: string; cacheMode: CacheMode | undefined; flags: string }[] = [
  { volumeId: "e8000000000000000000000000000001", cacheMode: "direct", flags: "direct" },
  { volumeId: "e8000000000000000000000000000002", cacheMode: "writethrough", flags: "sync" },
  { volumeId: "e8000000000000000000000000000003", cacheMode: "writeback", flags: "" },
  { volumeId: "e8000000000000000000000000000004", cacheMode: undefined, flags: "" },
];

let server: RunningServer;
let client: DplClient;

beforeAll(async () => {
  server = await startServer();
  client = clientFor(server);
});
afterAll(async () => {
  await client.close();
  await server.stop();
});

/** Backing store flags of LUN 1 of each target tgtd serves, by target IQN. */
async function lunFlagsByIqn(): Promise<Map<string, string>> {
  const tgtd = findTgtd(server);
  if (tgtd === undefined) throw new Error("the server's tgtd is not running");
  const { stdout } = await execFileAsync("tgtadm", ["-C", String(tgtd.controlPort), "--lld", "iscsi", "--mode", "target", "--op", "show"]);
  const flags = new Map<string, string>();
  for (const target of stdout.split(/^(?=Target \d+: )/m)) {
    const iqn = /^Target \d+: (\S+)/.exec(target)?.[1];
    const lun1 = target.slice(target.search(/^\s+LUN: 1$/m));
    const flag = /Backing store flags:[ \t]*(\S*)/.exec(lun1)?.[1];
    if (iqn !== undefined && flag !== undefined && target.search(/^\s+LUN: 1$/m) >= 0) flags.set(iqn, flag);
  }
  return flags;
}

describe("volume cache modes", () => {
  it("reach tgtd as the LUN's backing store flags", async () => {
    const iqns = new Map<string, string>();
    for (const c of CASES) {
      const volume = await client.createVolume(c.volumeId, { poolId: server.poolId, sizeBytes: 16 * MiB, ...(c.cacheMode === undefined ? {} : { cacheMode: c.cacheMode }) });
      expect(volume.metadata.properties.cache_mode).toBe(c.cacheMode ?? "writeback");
      const { connections } = await client.assignIscsi(c.volumeId, { initiators: [initiator] });
      const iqn = connections[0]?.targetIqn;
      if (iqn === undefined) throw new Error("no target IQN");
      iqns.set(c.volumeId, iqn);
    }
    const flags = await lunFlagsByIqn();
    for (const c of CASES) expect(flags.get(iqns.get(c.volumeId) ?? ""), `${c.cacheMode ?? "default"} volume`).toBe(c.flags);
  });
});
