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
import type { ReconcileReport } from "../../server/src/core/reconciler";
import { SqliteMetadataStore } from "../../server/src/engines/sqlite/metadata-db";
import { InMemoryBlockDeviceCatalog, InMemoryMaintenanceEngine, InMemoryPoolEngine, InMemoryTargetEngine, InMemoryVolumeEngine, MemoryDisks } from "./in-memory-engines";
import { InMemoryImageEngine } from "./in-memory-image-engine";
import { InjectPeerLink, InMemoryReplicationEngine, REACHABLE_SERVERS } from "./in-memory-replication";

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
  /** With `replication`: the streams, the link to the other servers, and the URL they reach this one at. */
  replication: { engine: InMemoryReplicationEngine; link: InjectPeerLink; url: string } | undefined;
  app: FastifyInstance;
  /** What the server logged. */
  logged: string[];
  /** What the start's reconcile found and did. */
  reconciled: ReconcileReport;
  /** A request with the admin's credentials (unless `headers.authorization` says otherwise). */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A PUT of a JSON body that waits (Prefer: wait) for the job it starts to finish. */
  put(path: string, body: unknown): Promise<LightMyRequestResponse>;
  /**
   * Stops this server and starts another on the same records and disks, with a tgtd that has
   * no targets. `meanwhile` edits the records while no server runs (to leave what a crash leaves).
   */
  restart(meanwhile?: (store: SqliteMetadataStore) => void): Promise<InMemoryServer>;
  close(): Promise<void>;
}

/** What outlives a server: its state directory and its disks. */
interface Machine {
  dir: string;
  disks: MemoryDisks;
  settings: Partial<CoreSettings>;
  /** The URL its replication peers reach it at; absent: no replication engine. */
  replicationUrl: string | undefined;
}

export const IN_MEMORY_CREDENTIALS = { username: USERNAME, password: PASSWORD };

export function startInMemoryServer(settings: Partial<CoreSettings> = {}, options: { replicationUrl?: string } = {}): Promise<InMemoryServer> {
  return boot({ dir: mkdtempSync(join(tmpdir(), "dpl-in-memory-")), disks: new MemoryDisks(), settings, replicationUrl: options.replicationUrl });
}

async function boot(machine: Machine): Promise<InMemoryServer> {
  const { dir, disks, settings, replicationUrl } = machine;
  const metadataPath = join(dir, "metadata.db");
  const targets = new InMemoryTargetEngine();
  const maintenance = new InMemoryMaintenanceEngine(disks);
  const images = new InMemoryImageEngine(disks);
  const logged: string[] = [];
  const log = (message: string): void => {
    logged.push(message);
  };
  const replicationEngine = new InMemoryReplicationEngine(disks);
  const replication = replicationUrl === undefined ? undefined : { engine: replicationEngine, link: new InjectPeerLink(replicationEngine), url: replicationUrl };
  const core = new DplCore({
    store: new SqliteMetadataStore(metadataPath),
    poolEngine: new InMemoryPoolEngine(disks),
    volumeEngine: new InMemoryVolumeEngine(disks),
    deviceCatalog: new InMemoryBlockDeviceCatalog(disks),
    targetEngine: targets,
    maintenanceEngine: maintenance,
    imageEngine: images,
    ...(replication === undefined ? {} : { replication: { engine: replication.engine, link: replication.link } }),
    settings: {
      portals: ["127.0.0.1:3260"], iqnPrefix: "iqn.2025-01.org.opendpl.test", allowedBlockDevices: [], imageDirectories: [],
      vendor: "OpenDPL", version: "test", serverName: "in-memory", ...settings,
    },
    log,
  });
  const reconciled = await core.start();
  const app = await buildHttpServer(core, { username: USERNAME, password: PASSWORD, log });
  const authorization = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`;
  if (replicationUrl !== undefined) REACHABLE_SERVERS.set(replicationUrl, { request: (options) => app.inject(options) });
  const stop = async (): Promise<void> => {
    if (replicationUrl !== undefined) REACHABLE_SERVERS.delete(replicationUrl);
    core.beginShutdown();
    await app.close();
    await core.stop();
  };
  return {
    core, disks, targets, maintenance, images, replication, app, logged, reconciled,
    request: (options) => app.inject({ ...options, headers: { authorization, ...options.headers } }),
    put: (path, body) => app.inject({
      method: "PUT", url: path, payload: JSON.stringify(body),
      headers: { authorization, "content-type": "application/json", prefer: "wait=30" },
    }),
    restart: async (meanwhile) => {
      await stop();
      if (meanwhile !== undefined) {
        const store = new SqliteMetadataStore(metadataPath);
        try {
          meanwhile(store);
        } finally {
          store.close();
        }
      }
      return boot(machine);
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
