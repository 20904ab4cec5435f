/**
 * The server's core and HTTP routes on in-memory engines, for unit tests that need no root:
 * the real DplCore, the real SQLite metadata store (in a temporary directory) and the real
 * fastify app, reached with `inject()` rather than a socket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { buildHttpServer } from "../../server/src/api/http-server";
import type { CoreSettings } from "../../server/src/core/context";
import { DplCore } from "../../server/src/core/dpl-core";
import { SqliteMetadataStore } from "../../server/src/engines/sqlite/metadata-db";
import { InMemoryBlockDeviceCatalog, InMemoryMaintenanceEngine, InMemoryPoolEngine, InMemoryTargetEngine, InMemoryVolumeEngine, MemoryDisks } from "./in-memory-engines";
import { InMemoryImageEngine } from "./in-memory-image-engine";

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

const USERNAME = "admin";
const PASSWORD = "in-memory-test";

export interface InMemoryServer {
  core: DplCore;
  disks: MemoryDisks;
  targets: InMemoryTargetEngine;
  maintenance: InMemoryMaintenanceEngine;
  images: InMemoryImageEngine;
  app: FastifyInstance;
  /** What the server logged. */
  logged: string[];
  /** A request with the admin's credentials (unless `headers.authorization` says otherwise). */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A PUT of a JSON body that waits (Prefer: wait) for the job it starts to finish. */
  put(path: string, body: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startInMemoryServer(settings: Partial<CoreSettings> = {}): Promise<InMemoryServer> {
  const dir = mkdtempSync(join(tmpdir(), "dpl-in-memory-"));
  const disks = new MemoryDisks();
  const targets = new InMemoryTargetEngine();
  const maintenance = new InMemoryMaintenanceEngine(disks);
  const images = new InMemoryImageEngine(disks);
  const logged: string[] = [];
  const log = (message: string): void => {
    logged.push(message);
  };
  const core = new DplCore({
    store: new SqliteMetadataStore(join(dir, "metadata.db")),
    poolEngine: new InMemoryPoolEngine(disks),
    volumeEngine: new InMemoryVolumeEngine(disks),
    deviceCatalog: new InMemoryBlockDeviceCatalog(disks),
    targetEngine: targets,
    maintenanceEngine: maintenance,
    imageEngine: images,
    settings: {
      portals: ["127.0.0.1:3260"], iqnPrefix: "iqn.2025-01.org.opendpl.test", allowedBlockDevices: [], imageDirectories: [],
      vendor: "OpenDPL", version: "test", serverName: "in-memory", ...settings,
    },
    log,
  });
  await core.start();
  const app = await buildHttpServer(core, { username: USERNAME, password: PASSWORD, log });
  const authorization = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`;
  return {
    core, disks, targets, maintenance, images, app, logged,
    request: (options) => app.inject({ ...options, headers: { authorization, ...options.headers } }),
    put: (path, body) => app.inject({
      method: "PUT", url: path, payload: JSON.stringify(body),
      headers: { authorization, "content-type": "application/json", prefer: "wait=30" },
    }),
    close: async () => {
      core.beginShutdown();
      await app.close();
      await core.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
