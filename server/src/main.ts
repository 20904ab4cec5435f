#!/usr/bin/env node
/**
 * `dpl-server serve --state-dir DIR ...`: the DPL v1 server on btrfs + tgtd + SQLite.
 * Start reconciles engines with the records (also after a crash); SIGTERM/SIGINT stop accepting
 * requests, let running jobs finish, stop tgtd and detach every pool.
 */
import { Command } from "commander";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { buildHttpServer } from "./api/http-server";
import { ensureAdminPassword, ensureTlsCertificate } from "./api/first-start";
import { buildOpenApiDocument } from "./api/openapi";
import { configFromOptions, DEFAULT_LISTEN, type ServeOptions, type ServerConfig } from "./config";
import type { CoreSettings } from "./core/context";
import { DplCore } from "./core/dpl-core";
import { newHexId } from "./core/jobs";
import {
  BtrfsPoolEngine, BtrfsVolumeEngine, RbdPoolEngine, RbdVolumeEngine, routePoolEngine, routeVolumeEngine, SysfsBlockDeviceCatalog, TgtTargetEngine,
  type BackendOf, type RbdPoolDirectory,
} from "./engines";
import { BtrfsMaintenanceEngine } from "./engines/btrfs/btrfs-maintenance-engine";
import { checkImageDirectory } from "./engines/images/image-directory-check";
import { QemuImageEngine } from "./engines/images/qemu-image-engine";
import { BtrfsReplicationEngine } from "./engines/btrfs/btrfs-replication-engine";
import { HttpsPeerLink } from "./engines/replication/https-peer-link";
import { SqliteMetadataStore } from "./engines/sqlite/metadata-db";

const VERSION = "1.0.0";
const EMBEDDED_POOL_NAME = "default";

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} dpl-server: ${message}\n`);
}

function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

async function ensureEmbeddedPool(core: DplCore, sizeBytes: number): Promise<void> {
  if (core.pools.list().length > 0) return;
  const id = newHexId();
  log(`creating the embedded pool "${EMBEDDED_POOL_NAME}" (${sizeBytes} bytes, sparse image file)`);
  const job = await core.pools.create(id, {
    name: EMBEDDED_POOL_NAME,
    description: "embedded pool on a sparse image file",
    raid: "single",
    compression: "none",
    devices: [{ type: "image_file", size: sizeBytes }],
  });
  const done = await job.done;
  if (done.status !== "Complete") throw new Error(`creating the embedded pool failed: ${done.errorMessage ?? "unknown error"}`);
}

async function serve(config: ServerConfig): Promise<void> {
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  for (const directory of config.imageDirectories) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    checkImageDirectory(directory);
  }
  const portal = formatHostPort(config.portal.host, config.portal.port);
  const settings: CoreSettings = {
    portals: [portal],
    iqnPrefix: "iqn.2025-01.org.opendpl",
    allowedBlockDevices: config.allowedBlockDevices,
    allowedCephFiles: config.allowedCephFiles,
    imageDirectories: config.imageDirectories,
    vendor: "OpenDPL",
    version: VERSION,
    serverName: hostname(),
    eventRetentionMs: config.eventRetentionMs,
    maxJobs: config.maxJobs,
    hostFreeFloorBytes: config.hostFreeFloorBytes,
  };
  const store = new SqliteMetadataStore(join(config.stateDir, "metadata.db"));
  const poolEngine = new BtrfsPoolEngine({ stateDir: config.stateDir });
  const backendOf: BackendOf = (poolId) => store.getPool(poolId)?.backend ?? "btrfs";
  const cephDirectory: RbdPoolDirectory = {
    connectionOf: (poolId) => {
      const ceph = store.getPool(poolId)?.ceph;
      if (ceph == null) throw new Error(`pool ${poolId} has no Ceph connection`);
      return ceph;
    },
    volumeOfSnapshot: (snapshotId) => store.getSnapshot(snapshotId)?.volumeId,
  };
  const core = new DplCore({
    store,
    poolEngine: routePoolEngine({ btrfs: poolEngine, rbd: new RbdPoolEngine(cephDirectory) }, backendOf),
    volumeEngine: routeVolumeEngine({ btrfs: new BtrfsVolumeEngine({ stateDir: config.stateDir }), rbd: new RbdVolumeEngine(cephDirectory) }, backendOf),
    deviceCatalog: new SysfsBlockDeviceCatalog(),
    maintenanceEngine: new BtrfsMaintenanceEngine({ pools: poolEngine, stateDir: config.stateDir }),
    replication: { engine: new BtrfsReplicationEngine({ stateDir: config.stateDir }), link: new HttpsPeerLink() },
    imageEngine: new QemuImageEngine({ downloadTimeoutMs: config.imageDownloadTimeoutMs, allowedUrlNetworks: config.allowedImageUrlNetworks }),
    targetEngine: new TgtTargetEngine({ controlPort: config.tgtControlPort, portal: config.portal }),
    settings,
    log,
  });

  let stopping: Promise<void> | undefined;
  const http: { app?: Awaited<ReturnType<typeof buildHttpServer>> } = {};
  const stop = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      log(`${signal}: stopping (finishing running jobs, stopping tgtd, detaching pools)`);
      core.beginShutdown();
      await http.app?.close();
      await core.stop();
      log("stopped");
    })();
    return stopping;
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      stop(signal).then(() => process.exit(0), (e: unknown) => {
        log(`stop failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        process.exit(1);
      });
    });
  }

  try {
    await core.start();
    if (config.embeddedPoolBytes !== undefined) await ensureEmbeddedPool(core, config.embeddedPoolBytes);
  } catch (e) {
    // Leave nothing running or mounted behind a failed start.
    await stop("start failure").catch(() => undefined);
    throw e;
  }

  const credentials = ensureAdminPassword(config.stateDir);
  log(`admin password is in ${credentials.passwordFile}`);
  const tls = config.insecureHttp ? undefined : await ensureTlsCertificate(config.stateDir, [config.listenHost]);
  const app = await buildHttpServer(core, {
    username: credentials.username,
    password: credentials.password,
    ...(tls === undefined ? {} : { tls: { key: tls.key, cert: tls.cert } }),
    log,
    perVolumeMetrics: config.perVolumeMetrics,
  });
  http.app = app;
  await app.listen({ host: config.listenHost, port: config.listenPort });
  const address = app.server.address() as AddressInfo;
  const reachableHost = config.listenHost === "0.0.0.0" || config.listenHost === "::" ? "127.0.0.1" : config.listenHost;
  const url = `${tls === undefined ? "http" : "https"}://${formatHostPort(reachableHost, address.port)}`;
  log(`listening on ${url}${tls === undefined ? " (plain HTTP: --insecure-http)" : `, certificate ${tls.certFile}`}`);

  if (config.readyFile !== undefined) {
    const pools = core.pools.list();
    const pool = pools.find((p) => p.name === EMBEDDED_POOL_NAME) ?? pools[0];
    const ready = { url, pid: process.pid, poolId: pool?.id ?? null, passwordFile: credentials.passwordFile, caFile: tls?.certFile ?? null };
    const temporary = `${config.readyFile}.tmp`;
    // Made anew (O_EXCL): never written through a file or symlink someone left in its place.
    rmSync(temporary, { force: true });
    writeFileSync(temporary, JSON.stringify(ready), { mode: 0o600, flag: "wx" });
    renameSync(temporary, config.readyFile);
  }
}

const program = new Command()
  .name("dpl-server")
  .description("An open DPL v1 REST server on real engines: btrfs (data), tgtd (iSCSI), SQLite (metadata)")
  .version(VERSION);

program
  .command("serve")
  .description("run the server")
  .requiredOption("--state-dir <dir>", "where metadata.db, tls/, admin-password, images/ and pools/ live")
  .option("--listen <host:port>", "HTTP(S) listen address; port 0 = any free port (0.0.0.0:8357 exposes it to the network, see docs/SECURITY.md)", DEFAULT_LISTEN)
  .option("--insecure-http", "serve plain HTTP instead of HTTPS")
  .option("--portal <host:port>", "iSCSI portal tgtd listens on", "127.0.0.1:3260")
  .option("--tgt-control-port <n>", "control port of this server's own tgtd (tgtd -C; one per server on a host)", "8357")
  .option("--embedded-pool <size>", 'at first start with no pools, create pool "default" on a sparse image file of this size (e.g. 8GiB)')
  .option("--ready-file <path>", "write {url,pid,poolId,passwordFile,caFile} as JSON once listening")
  .option("--allow-block-device <path...>", "block devices pools may be built from")
  .option("--allow-ceph-file <path...>", "Ceph config and keyring files rbd pools may name (ceph.conf, a client keyring)")
  .option("--image-dir <dir...>", "directories volumes are imported from and exported to as image files (default: <state-dir>/volume-images; each pool's own images/ directory is always one)")
  .option("--per-volume-metrics", "add per-volume series (size, allocated bytes) to GET /metrics")
  .option("--allow-image-url-network <cidr...>", "non-public networks URL imports may reach (loopback, private and link-local addresses are refused otherwise), e.g. 10.0.0.0/8")
  .option("--image-download-timeout <duration>", "the longest one URL image import may take (a download is also failed after 60 s without data)", "6h")
  .option("--max-jobs <n>", "jobs running or waiting for locks at once; beyond it requests get 503 with Retry-After", "64")
  .option("--host-free-floor <size>", "free space of the state directory's filesystem that image-file pools and thick volumes never count on (metadata.db needs it)", "256MiB")
  .option("--event-retention <duration>", "delete finished events older than this (e.g. 30d, 12h, 90m)", "30d")
  .action(async (options: ServeOptions) => {
    try {
      await serve(configFromOptions(options));
    } catch (e) {
      log(`failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      process.exit(1);
    }
  });

program
  .command("openapi")
  .description("print the OpenAPI 3.1 document of the API")
  .action(() => {
    process.stdout.write(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  });

void program.parseAsync(process.argv);
