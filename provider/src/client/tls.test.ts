import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient, DplConnectionError, type DplClientOptionsInput } from "./index";
import { makeSelfSignedCertificate, sendJson, startLocalServer, systemReply, type LocalServer } from "./testing/local-server";

let cert: Awaited<ReturnType<typeof makeSelfSignedCertificate>>;
let httpsServer: LocalServer;
let httpsV6Server: LocalServer;
let httpV6Server: LocalServer;
/** Undo steps registered as things start, run in reverse even when beforeAll failed half-way. */
const teardown: Array<() => Promise<void>> = [];

async function started(server: Promise<LocalServer>): Promise<LocalServer> {
  const running = await server;
  teardown.push(() => running.close());
  return running;
}

beforeAll(async () => {
  cert = await makeSelfSignedCertificate();
  teardown.push(() => cert.cleanup());
  const reply = (_req: unknown, res: Parameters<typeof sendJson>[0]) => { sendJson(res, 200, systemReply()); };
  httpsServer = await started(startLocalServer(reply, { tls: cert }));
  httpsV6Server = await started(startLocalServer(reply, { tls: cert, host: "::1" }));
  httpV6Server = await started(startLocalServer(reply, { host: "::1" }));
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

async function systemVia(options: Partial<DplClientOptionsInput> & { endpoint: string }) {
  const client = new DplClient({ password: "pw", retryBaseDelayMs: 5, ...options });
  try {
    return await client.system();
  } finally {
    await client.close();
  }
}

describe("TLS", () => {
  it("refuses a self-signed server certificate by default, at once and with a hint", async () => {
    const before = httpsServer.requests.length;
    const started = Date.now();
    const err: unknown = await systemVia({ endpoint: httpsServer.url }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DplConnectionError);
    expect((err as Error).message).toMatch(/self[- ]signed/i);
    expect((err as Error).message).toContain("DPL_CA_FILE");
    expect((err as DplConnectionError).attempts).toBe(1);
    // At once, with room for a busy machine: waiting out the 10 s connect timeout would not be.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(httpsServer.requests.length).toBe(before);
  });

  it("accepts the server with its CA given as a PEM string", async () => {
    const reply = await systemVia({ endpoint: httpsServer.url, ca: cert.cert });
    expect(reply.metadata.vendor).toBe("test");
  });

  it("accepts the server with its CA given as a file path", async () => {
    const reply = await systemVia({ endpoint: httpsServer.url, ca: cert.certPath });
    expect(reply.metadata.server_name).toBe("local");
  });

  it("accepts any certificate only with the explicit insecure flag", async () => {
    const reply = await systemVia({ endpoint: httpsServer.url, insecure: true });
    expect(reply.metadata.vendor).toBe("test");
  });

  it("fails clearly when the CA file does not exist", () => {
    expect(() => new DplClient({ endpoint: httpsServer.url, password: "pw", ca: "/nonexistent/ca.pem" })).toThrow(/cannot read the DPL CA file \/nonexistent\/ca.pem/);
  });
});

describe("IPv6 endpoints (D28)", () => {
  it("reaches https://[::1]:port with the CA verified against the IPv6 address", async () => {
    expect(httpsV6Server.url).toMatch(/^https:\/\/\[::1\]:\d+$/);
    const reply = await systemVia({ endpoint: httpsV6Server.url, ca: cert.cert });
    expect(reply.metadata.vendor).toBe("test");
    expect(httpsV6Server.requests.at(-1)?.headers.host).toMatch(/^\[::1\]:\d+$/);
  });

  it("reaches http://[::1]:port", async () => {
    const reply = await systemVia({ endpoint: httpV6Server.url });
    expect(reply.metadata.vendor).toBe("test");
  });
});
