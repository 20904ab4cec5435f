/**
 * The server's route table, as fastify registered it (an in-process app built with the same
 * buildHttpServer the server uses; its engines are never started), so a route added later is
 * covered by the access tests without anyone listing it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildHttpServer, servedRoutes } from "../../server/src/api/http-server";
import { DplCore } from "../../server/src/core/dpl-core";
import { BtrfsPoolEngine, BtrfsVolumeEngine, SysfsBlockDeviceCatalog, TgtTargetEngine } from "../../server/src/engines";
import { SqliteMetadataStore } from "../../server/src/engines/sqlite/metadata-db";

export interface RouteEntry {
  method: string;
  /** With fastify's `:param` placeholders, e.g. /v1/dpl_volume/:volume/cdmi_snapshots. */
  url: string;
}

export async function serverRouteTable(): Promise<RouteEntry[]> {
  const dir = mkdtempSync(join(tmpdir(), "dpl-routes-"));
  const core = new DplCore({
    store: new SqliteMetadataStore(join(dir, "metadata.db")),
    poolEngine: new BtrfsPoolEngine({ stateDir: dir }),
    volumeEngine: new BtrfsVolumeEngine({ stateDir: dir }),
    deviceCatalog: new SysfsBlockDeviceCatalog(),
    targetEngine: new TgtTargetEngine({ controlPort: 1, portal: { host: "127.0.0.1", port: 1 } }),
    settings: { portals: [], iqnPrefix: "iqn.2025-01.org.opendpl", allowedBlockDevices: [], imageDirectories: [], vendor: "route-table", version: "0", serverName: "route-table" },
    log: () => undefined,
  });
  const app = await buildHttpServer(core, { username: "route", password: "table", log: () => undefined });
  try {
    await app.ready();
    // Trailing slashes are optional on every route (ignoreTrailingSlash): one spelling each.
    return servedRoutes(app).map((r) => ({ method: r.method, url: r.url.replace(/(.)\/$/, "$1") }));
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A concrete path for a route: every `:param` becomes a well-formed 32-hex id. */
export function concretePath(url: string): string {
  return `${url.replace(/:[A-Za-z_]+/g, "0123456789abcdef0123456789abcdef")}/`;
}
