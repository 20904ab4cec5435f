/** The server's command line, parsed once into a typed configuration. */
import { Portal } from "@prophetstor/dpl-provider/wire";
import { BlockList, isIP } from "node:net";
import { resolve } from "node:path";
import { parseNetwork } from "./engines/images/url-guard";

/** Where a plain-HTTP listener is allowed: only this host can reach it (IPv4-mapped forms included). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** The address every interface of the host can reach the API on is never assumed: the default is loopback. */
export const DEFAULT_LISTEN = "127.0.0.1:8357";

export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

export interface ServerConfig {
  stateDir: string;
  listenHost: string;
  /** 0 lets the kernel choose. */
  listenPort: number;
  insecureHttp: boolean;
  /** iSCSI portal tgtd listens on and replies name. */
  portal: { host: string; port: number };
  tgtControlPort: number;
  embeddedPoolBytes: number | undefined;
  readyFile: string | undefined;
  allowedBlockDevices: string[];
  /** Ceph config and keyring files rbd pools may name (absolute paths, as given). */
  allowedCephFiles: string[];
  /** Directories images are imported from and exported to (each pool's own image directory is added at run time). */
  imageDirectories: string[];
  perVolumeMetrics: boolean;
  /** Finished events older than this are deleted. */
  eventRetentionMs: number;
  maxJobs: number;
  /** Bytes of the state directory's filesystem that pools and thick volumes never count on. */
  hostFreeFloorBytes: number;
  /** The longest one image download may take. */
  imageDownloadTimeoutMs: number;
  /** Non-public networks URL imports may reach (CIDR). */
  allowedImageUrlNetworks: string[];
}

const UNITS: Record<string, number> = {
  "": 1, B: 1, K: 2 ** 10, KIB: 2 ** 10, M: 2 ** 20, MIB: 2 ** 20, G: 2 ** 30, GIB: 2 ** 30, T: 2 ** 40, TIB: 2 ** 40,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
};

/** "8GiB", "512M", "1073741824" → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2]?.toUpperCase() ?? "";
  const factor = UNITS[unit];
  if (m?.[1] === undefined || factor === undefined) throw new Error(`not a size: ${JSON.stringify(text)} (use e.g. 8GiB, 512MiB)`);
  return Math.floor(Number(m[1]) * factor);
}

function parseSizeOption(text: string, what: string): number {
  try {
    return parseSize(text);
  } catch (e) {
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30d", "12h", "90m", "10s" → milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(text);
  const factor = DURATION_UNITS[m?.[2]?.toLowerCase() ?? ""];
  if (m?.[1] === undefined || factor === undefined || Number(m[1]) === 0) throw new Error(`${what} must be a duration such as 30d, 12h, 90m or 10s, got ${JSON.stringify(text)}`);
  return Number(m[1]) * factor;
}

function parseCount(text: string, what: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > 10_000) throw new Error(`${what} must be a whole number from 1 to 10000, got ${JSON.stringify(text)}`);
  return count;
}

/** "HOST:PORT" or "[v6]:PORT". */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) throw new Error(`${what} must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host, port };
}

export interface ServeOptions {
  stateDir: string;
  listen: string;
  insecureHttp?: boolean;
  portal: string;
  tgtControlPort: string;
  embeddedPool?: string;
  readyFile?: string;
  allowBlockDevice?: string[];
  allowCephFile?: string[];
  imageDir?: string[];
  perVolumeMetrics?: boolean;
  eventRetention: string;
  maxJobs: string;
  hostFreeFloor: string;
  imageDownloadTimeout: string;
  allowImageUrlNetwork?: string[];
}

export function configFromOptions(o: ServeOptions): ServerConfig {
  const listen = parseHostPort(o.listen, "--listen");
  if (o.insecureHttp === true && !isLoopbackHost(listen.host)) {
    // Basic credentials would cross the network in clear text.
    throw new Error(`--insecure-http is allowed only on a loopback --listen address (127.0.0.0/8, ::1, localhost), not ${listen.host}; drop it to serve HTTPS`);
  }
  if (!Portal.safeParse(o.portal).success) throw new Error(`--portal must be HOST:PORT, got ${JSON.stringify(o.portal)}`);
  const portal = parseHostPort(o.portal, "--portal");
  const tgtControlPort = Number(o.tgtControlPort);
  if (!Number.isInteger(tgtControlPort) || tgtControlPort < 0 || tgtControlPort > 32767) throw new Error("--tgt-control-port must be 0..32767 (tgtd's range)");
  return {
    stateDir: resolve(o.stateDir),
    listenHost: listen.host,
    listenPort: listen.port,
    insecureHttp: o.insecureHttp === true,
    portal,
    tgtControlPort,
    embeddedPoolBytes: o.embeddedPool === undefined ? undefined : parseSizeOption(o.embeddedPool, "--embedded-pool"),
    readyFile: o.readyFile === undefined ? undefined : resolve(o.readyFile),
    allowedBlockDevices: o.allowBlockDevice ?? [],
    allowedCephFiles: (o.allowCephFile ?? []).map((path) => resolve(path)),
    // Not <stateDir>/images: that directory holds the pools' own device image files.
    imageDirectories: (o.imageDir ?? [resolve(o.stateDir, "volume-images")]).map((dir) => resolve(dir)),
    perVolumeMetrics: o.perVolumeMetrics === true,
    eventRetentionMs: parseDuration(o.eventRetention, "--event-retention"),
    maxJobs: parseCount(o.maxJobs, "--max-jobs"),
    hostFreeFloorBytes: parseSizeOption(o.hostFreeFloor, "--host-free-floor"),
    imageDownloadTimeoutMs: parseDuration(o.imageDownloadTimeout, "--image-download-timeout"),
    allowedImageUrlNetworks: (o.allowImageUrlNetwork ?? []).map((text) => {
      try {
        parseNetwork(text);
      } catch (e) {
        throw new Error(`--allow-image-url-network: ${e instanceof Error ? e.message : String(e)}`);
      }
      return text;
    }),
  };
}
