import { createServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { AuthenticationError, DplConnectionError, DplRequestError, DplServerError, DplValidationError, NotFoundError, ProtocolError, TimeoutError } from "./errors";
import { caught, useClientTestBed } from "./testing/client-test-bed";
import { sendJson, systemReply, volumeReply } from "./testing/local-server";

const VOL = "0123456789abcdef0123456789abcdef";
const POOL = "a".repeat(32);
const PASSWORD = "s3cr3t-Pässwörd€";

const { serve, clientFor, onCleanup } = useClientTestBed({ username: "admin", password: PASSWORD, retryBaseDelayMs: 5, retryMaxDelayMs: 20 });

describe("headers", () => {
  it("sends Basic auth from the UTF-8 bytes, the CDMI headers, and Content-Type only with a body", async () => {
    const server = await serve((req, res) => {
      if (req.method === "GET") sendJson(res, 200, volumeReply(VOL));
      else sendJson(res, 200, {});
    });
    const client = clientFor(server.url);
    await client.extendVolume(VOL, 4 * 2 ** 30);
    const [put, get] = server.requests;
    const expected = `Basic ${Buffer.from(`admin:${PASSWORD}`, "utf8").toString("base64")}`;
    expect(put?.headers.authorization).toBe(expected);
    expect(Buffer.from(expected.slice(6), "base64").toString("utf8")).toBe(`admin:${PASSWORD}`);
    expect(put?.headers["content-type"]).toBe("application/cdmi-container");
    expect(put?.headers.accept).toBe("application/cdmi-container");
    expect(put?.headers["x-cdmi-specification-version"]).toBe("1.0.2");
    expect(put?.headers.prefer).toBe("wait=20");
    expect(JSON.parse(put?.body ?? "")).toEqual({ metadata: { total_capacity: 4 * 2 ** 30 } });
    expect(put?.url).toBe(`/v1/dpl_volume/${VOL}/`);
    expect(get?.headers["content-type"]).toBeUndefined();
    expect(get?.headers.prefer).toBeUndefined();
    expect(get?.headers.authorization).toBe(expected);
  });

  it("reuses keep-alive connections for consecutive calls", async () => {
    const ports = new Set<number>();
    const server = await serve((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      sendJson(res, 200, systemReply());
    });
    const client = clientFor(server.url);
    for (let i = 0; i < 10; i++) await client.system();
    expect(server.requests).toHaveLength(10);
    // undici's Pool may alternate between two idle sockets; it never opens one per call.
    expect(ports.size).toBeLessThanOrEqual(2);
  });
});

describe("final object", () => {
  it("uses the finished object a Prefer: wait reply carries, without a second request", async () => {
    const server = await serve((_req, res) => { sendJson(res, 201, volumeReply(VOL, { total_capacity: 3 * 2 ** 30 })); });
    const volume = await clientFor(server.url).createVolume(VOL, { poolId: POOL, sizeBytes: 3 * 2 ** 30 });
    expect(volume.metadata.total_capacity).toBe(3 * 2 ** 30);
    expect(server.requests.map((r) => r.method)).toEqual(["PUT"]);
  });

  it("reads the object back when the reply is another object's", async () => {
    const other = "f".repeat(32);
    const server = await serve((req, res) => { sendJson(res, req.method === "PUT" ? 201 : 200, volumeReply(req.method === "PUT" ? other : VOL)); });
    const volume = await clientFor(server.url).createVolume(VOL, { poolId: POOL, sizeBytes: 2 ** 30 });
    expect(volume.objectID).toBe(VOL);
    expect(server.requests.map((r) => r.method)).toEqual(["PUT", "GET"]);
  });
});

describe("retries", () => {
  it("gives up on a 503 storm after maxAttempts with a clear error, well within the deadline", async () => {
    const server = await serve((_req, res) => { sendJson(res, 503, { error: { code: "BUSY", message: "pool is being scrubbed" } }, { "retry-after": "0" }); });
    const client = clientFor(server.url, { maxAttempts: 4, operationTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await caught(client.system());
    expect(err).toBeInstanceOf(DplServerError);
    expect(server.requests).toHaveLength(4);
    expect(err).toMatchObject({ status: 503, attempts: 4 });
    expect(err.message).toBe("read system: BUSY: pool is being scrubbed (after 4 attempts)");
    // Well within the deadline, with room for a busy machine: retrying on until the 10 s deadline would not be.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("honours Retry-After between 503s and then succeeds", async () => {
    const server = await serve((_req, res, _r, index) => {
      if (index === 0) sendJson(res, 503, {}, { "retry-after": "1" });
      else sendJson(res, 200, systemReply());
    });
    const client = clientFor(server.url);
    await client.system();
    const [first, second] = server.requests;
    expect(server.requests).toHaveLength(2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("stops at once when Retry-After lies beyond the deadline", async () => {
    const server = await serve((_req, res) => { sendJson(res, 503, {}, { "retry-after": "60" }); });
    const client = clientFor(server.url, { operationTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await caught(client.system());
    expect(err).toBeInstanceOf(DplServerError);
    expect(server.requests).toHaveLength(1);
    // Well before the 10 s deadline: sleeping towards the 60 s Retry-After would take all of it.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("retries a request whose connection was dropped mid-request", async () => {
    const server = await serve((req, res, _r, index) => {
      if (index === 0) req.socket.destroy();
      else sendJson(res, 200, volumeReply(VOL));
    });
    const client = clientFor(server.url);
    const volume = await client.getVolume(VOL);
    expect(volume?.objectID).toBe(VOL);
    expect(server.requests).toHaveLength(2);
  });

  it("retries a refused connection a bounded number of times, then names the endpoint", async () => {
    const port = await closedPort();
    const client = clientFor(`http://127.0.0.1:${port}`, { maxAttempts: 3 });
    const err = await caught(client.getVolume(VOL));
    expect(err).toBeInstanceOf(DplConnectionError);
    expect(err.message).toMatch(new RegExp(`^read volume ${VOL}: cannot reach DPL server at http://127.0.0.1:${port}: ECONNREFUSED.*\\(after 3 attempts\\)$`));
  });

  it("times out a server that never answers within the operation deadline", async () => {
    const server = await serve(() => undefined);
    // 300 ms attempts in a 2 s deadline: about six. 20 allowed attempts would take 6 s if the deadline were ignored.
    const client = clientFor(server.url, { requestTimeoutMs: 300, operationTimeoutMs: 2_000, maxAttempts: 20 });
    const started = Date.now();
    const err = await caught(client.getVolume(VOL));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ operation: "read volume", objectId: VOL, code: "TIMEOUT" });
    expect(err.message).toMatch(new RegExp(`^read volume ${VOL}: timed out after 2000 ms waiting for GET /v1/dpl_volume/${VOL}/`));
    expect(elapsed).toBeGreaterThanOrEqual(1_950);
    // Room for a busy machine; running the 20 attempts past the deadline would take over 6 s.
    expect(elapsed).toBeLessThan(4_500);
    // Attempts that timed out were retried inside the deadline (three take under 1 s of its 2 s).
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
  });

  it("ends the last attempt at the operation deadline, not at its longer request timeout", async () => {
    const server = await serve(() => undefined);
    const client = clientFor(server.url, { requestTimeoutMs: 10_000, operationTimeoutMs: 1_000 });
    const started = Date.now();
    const err = await caught(client.getVolume(VOL));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    // The one attempt was cut short by the deadline: that is the timeout, not a "last failure" of its own.
    expect(err.message).toBe(`read volume ${VOL}: timed out after 1000 ms waiting for GET /v1/dpl_volume/${VOL}/`);
    expect(server.requests).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    // Room for a busy machine; an attempt left to run its 10 s request timeout would take 10 s.
    expect(elapsed).toBeLessThan(3_500);
  });

  it("accepts ALREADY_EXISTS from a retried create whose first attempt was lost after sending", async () => {
    const server = await serve((req, res, _r, index) => {
      if (index === 0) req.socket.destroy();
      else if (req.method === "PUT") sendJson(res, 409, { error: { code: "ALREADY_EXISTS", message: "volume exists" } });
      else sendJson(res, 200, volumeReply(VOL));
    });
    const client = clientFor(server.url);
    const volume = await client.createVolume(VOL, { poolId: POOL, sizeBytes: 2 ** 30 });
    expect(volume.objectID).toBe(VOL);
    expect(server.requests.map((r) => r.method)).toEqual(["PUT", "PUT", "GET"]);
  });
});

describe("status mapping", () => {
  it("maps 401 to AuthenticationError without the password and without retrying", async () => {
    const server = await serve((_req, res) => { sendJson(res, 401, { error: { code: "UNAUTHENTICATED", message: "bad credentials" } }); });
    const client = clientFor(server.url);
    const err = await caught(client.system());
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toBe(`read system: DPL server at ${server.url} rejected the credentials for user "admin"`);
    expect(err.message).not.toContain(PASSWORD);
    expect(JSON.stringify(err)).not.toContain(PASSWORD);
    expect(server.requests).toHaveLength(1);
  });

  it("maps other 4xx to DplRequestError with code, field and the server's message", async () => {
    const server = await serve((_req, res) => { sendJson(res, 409, { error: { code: "INSUFFICIENT_CAPACITY", message: "pool has 1 GiB free, 8 GiB asked", field: "metadata.total_capacity" } }); },
    );
    const client = clientFor(server.url);
    const err = await caught(client.createVolume(VOL, { poolId: POOL, sizeBytes: 8 * 2 ** 30, thin: false }));
    expect(err).toBeInstanceOf(DplRequestError);
    expect(err).toMatchObject({ operation: "create volume", objectId: VOL, status: 409, code: "INSUFFICIENT_CAPACITY", field: "metadata.total_capacity" });
    expect(err.message).toBe(`create volume ${VOL}: INSUFFICIENT_CAPACITY: pool has 1 GiB free, 8 GiB asked (field metadata.total_capacity)`);
  });

  it("maps 5xx to DplServerError without retrying (only 503 is retried)", async () => {
    const server = await serve((_req, res) => { sendJson(res, 500, { error: { code: "ENGINE_FAILURE", message: "btrfs said no" } }); });
    const err = await caught(clientFor(server.url).system());
    expect(err).toBeInstanceOf(DplServerError);
    expect(err.message).toBe("read system: ENGINE_FAILURE: btrfs said no");
    expect(server.requests).toHaveLength(1);
  });

  it("returns undefined for a missing volume, treats deleting a gone one as success, and throws NotFoundError elsewhere", async () => {
    const server = await serve((_req, res) => { sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no such volume" } }); });
    const client = clientFor(server.url);
    expect(await client.getVolume(VOL)).toBeUndefined();
    await expect(client.deleteVolume(VOL)).resolves.toBeUndefined();
    await expect(client.deleteSnapshot(VOL, POOL)).resolves.toBeUndefined();
    await expect(client.unassignIscsi(VOL, ["iqn.2024-01.org.example:host"])).resolves.toBeUndefined();
    const err = await caught(client.extendVolume(VOL, 2 ** 31));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(`extend volume ${VOL}: NOT_FOUND: no such volume`);
  });

  it("sends the force body on volume delete", async () => {
    const server = await serve((_req, res) => { res.writeHead(204); res.end(); });
    await clientFor(server.url).deleteVolume(VOL);
    expect(server.requests[0]?.method).toBe("DELETE");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ metadata: { force: true } });
  });
});

describe("reply parsing", () => {
  it("turns a non-JSON body into a ProtocolError naming the operation", async () => {
    const server = await serve((_req, res) => { res.writeHead(200); res.end("<html>proxy error</html>"); });
    const err = await caught(clientFor(server.url).system());
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toBe('read system: unexpected reply from the DPL server: the reply body is not JSON (starts "<html>proxy error</html>")');
  });

  it("names the first bad field of a reply that breaks the wire schema", async () => {
    const bad = volumeReply(VOL) as { metadata: Record<string, unknown> };
    bad.metadata.total_capacity = "lots";
    const server = await serve((_req, res) => { sendJson(res, 200, bad); });
    const err = await caught(clientFor(server.url).getVolume(VOL));
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ field: "metadata.total_capacity" });
    expect(err.message).toMatch(new RegExp(`^read volume ${VOL}: unexpected reply from the DPL server: field metadata.total_capacity: `));
  });

  it("reports a reply that is not HTTP at all as a ProtocolError", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.end("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => { resolve(); });
    }));
    const err = await caught(clientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).system());
    expect(err).toBeInstanceOf(ProtocolError);
  });
});

describe("input validation", () => {
  it("refuses bad ids and bodies before sending anything", async () => {
    const server = await serve((_req, res) => { sendJson(res, 200, {}); });
    const client = clientFor(server.url);
    const badId = await caught(client.getVolume("../../etc"));
    expect(badId).toBeInstanceOf(DplValidationError);
    const badSize = await caught(client.createVolume(VOL, { poolId: POOL, sizeBytes: -1 }));
    expect(badSize).toBeInstanceOf(DplValidationError);
    expect(badSize).toMatchObject({ field: "metadata.total_capacity" });
    const badIqn = await caught(client.assignIscsi(VOL, { initiators: ["not an iqn"] }));
    expect(badIqn.message).toMatch(/exports\.Network\/iSCSI\.permissions\.0/);
    expect(server.requests).toHaveLength(0);
  });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => { resolve(); }));
  return port;
}
