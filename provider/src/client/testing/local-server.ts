/**
 * Small real HTTP(S) servers on port 0 for the client's unit tests: each test scripts how the
 * server misbehaves (503 storms, stalls, garbage, dropped connections, 401s). Not shipped API.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest, index: number) => void | Promise<void>;

export interface LocalServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface TlsMaterial {
  key: string;
  cert: string;
  certPath: string;
}

export async function startLocalServer(handler: Handler, options: { tls?: TlsMaterial; host?: string } = {}): Promise<LocalServer> {
  const host = options.host ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      requests.push(recorded);
      void Promise.resolve(handler(req, res, recorded, requests.length - 1)).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  };
  const server: Server = options.tls === undefined ? createHttpServer(listener) : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // TLS handshakes the client aborts surface here; they are expected in refusal tests.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => { resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${hostInUrl}:${port}`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

/** A self-signed certificate for localhost, 127.0.0.1 and ::1, made with openssl. */
export async function makeSelfSignedCertificate(): Promise<TlsMaterial & { cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "dpl-client-tls-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  await execFileAsync(
    "openssl",
    [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ],
    { timeout: 30_000 },
  );
  return {
    key: await readFile(keyPath, "utf8"),
    cert: await readFile(certPath, "utf8"),
    certPath,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/cdmi-container", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const envelope = (id: string, parent: string) => ({
  objectType: "application/cdmi-container",
  objectID: id,
  objectName: id,
  parentURI: parent,
  parentID: "",
  domainURI: "",
  capabilitiesURI: "",
  completionStatus: "Complete",
  percentComplete: 100,
  childrenrange: "",
});

/** A VolumeReply that satisfies the wire schema. */
export function volumeReply(id: string, overrides: { total_capacity?: number; exports?: unknown } = {}): unknown {
  return {
    ...envelope(id, "/dpl_volume"),
    children: [],
    snapshots: [],
    exports: overrides.exports ?? {},
    metadata: {
      type: "volume",
      display_name: id,
      display_description: null,
      pool_uuid: "a".repeat(32),
      total_capacity: overrides.total_capacity ?? 2 ** 30,
      used_capacity: 0,
      maximum_snapshot: 1024,
      snapshot_quota: 0,
      properties: { thin_provision: true, compression: "none", cache_mode: "writeback" },
      state: "available",
      origin_uuid: null,
      volume_group_uuid: null,
      ctime: 1,
      mtime: 1,
    },
  };
}

export function systemReply(): unknown {
  return {
    ...envelope("", "/"),
    metadata: {
      vendor: "test",
      version: "1",
      server_name: "local",
      protocol_version: "1",
      storage_adapter: {},
      iscsi_portals: [],
      capabilities: {
        protocols: ["iscsi"], raid_levels: ["single"], compression: ["none"], thin_provisioning: true, snapshots: true, clones: true,
        rollback: true, volume_groups: true, chap: true, dedupe: false, scrub: false, prefer_wait: true,
      },
    },
  };
}

export function eventReply(eventId: string, objectId: string, status: "Processing" | "Complete" | "Error", error?: { code: string; message: string }): unknown {
  return {
    completionStatus: status,
    percentComplete: status === "Processing" ? 50 : 100,
    metadata: { event_uuid: eventId },
    event: {
      event_uuid: eventId,
      operation: "create",
      object_uuid: objectId,
      status,
      percent_complete: status === "Processing" ? 50 : 100,
      ...(error === undefined ? {} : { error_code: error.code, error_message: error.message }),
      started: 1,
      finished: status === "Processing" ? null : 2,
    },
  };
}
