/**
 * Hostile and sloppy input: every refusal is a 4xx JSON error naming the problem, and nothing is
 * created. And authentication: every route refuses missing or wrong credentials.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody, VolumeListReply } from "@prophetstor/dpl-provider/wire";
import { dplRequest, startServer, type DplResponse, type RunningServer } from "../support/dpl-server";

const MiB = 2 ** 20;
const hex = (): string => randomUUID().replace(/-/g, "");

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

function expectError(res: DplResponse, status: number, code: string, field?: string): void {
  expect(res.status, res.text).toBe(status);
  const body = ErrorBody.parse(res.body);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (field !== undefined) expect(body.error.field).toBe(field);
}

async function volumeCount(): Promise<number> {
  return VolumeListReply.parse((await dplRequest(server, "GET", "/v1/dpl_volume/")).body).children.length;
}

describe("bad input", () => {
  it("refuses each malformed create with a 4xx naming the field, creating nothing", async () => {
    const before = await volumeCount();
    const cases: Array<{ body?: unknown; raw?: string; status: number; code: string; field?: string }> = [
      { raw: "{not json", status: 400, code: "INVALID_ARGUMENT", field: "body" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: "big" } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.total_capacity" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: 0 } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.total_capacity" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: -5 } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.total_capacity" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: 2 ** 62 } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.total_capacity" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: 1.5 } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.total_capacity" },
      { body: { metadata: { pool_uuid: "not-a-pool", total_capacity: MiB } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.pool_uuid" },
      { body: { metadata: { pool_uuid: hex(), total_capacity: 64 * MiB } }, status: 404, code: "NOT_FOUND", field: "metadata.pool_uuid" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: MiB, display_name: "x; rm -rf /" } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.display_name" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: MiB, display_name: "$(reboot)" } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.display_name" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: MiB, display_name: "a".repeat(4096) } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.display_name" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: MiB, surprise: 1 } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.surprise" },
      { body: { metadata: { pool_uuid: server.poolId, total_capacity: MiB, properties: { thin_provision: "yes" } } }, status: 400, code: "INVALID_ARGUMENT", field: "metadata.properties.thin_provision" },
      { body: { hello: "world" }, status: 400, code: "UNKNOWN_OPERATION" },
      { body: [1, 2, 3], status: 400, code: "UNKNOWN_OPERATION" },
      { body: { metadata: { export_operation: "explode" } }, status: 400, code: "UNKNOWN_OPERATION" },
    ];
    for (const c of cases) {
      const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${hex()}/`, c.raw === undefined ? { body: c.body } : { rawBody: c.raw });
      expectError(res, c.status, c.code, c.field);
    }
    expect(await volumeCount()).toBe(before);
  });

  it("refuses non-hex ids and path tricks", async () => {
    for (const path of [
      "/v1/dpl_volume/NOT-HEX/",
      "/v1/dpl_volume/0123456789ABCDEF0123456789ABCDEF/",
      "/v1/dpl_volume/..%2F..%2Fetc%2Fpasswd/",
      "/v1/dpl_volume/0123456789abcdef0123456789abcdef0/",
      "/v1/dpl_volume/0123456789abcdef0123456789abcde%00/",
    ]) {
      const res = await dplRequest(server, "GET", path);
      expectError(res, 400, "INVALID_ARGUMENT", "path.volume");
    }
    // Dot segments are resolved before routing (by the client's URL parser or the router): 4xx JSON either way.
    for (const path of ["/v1/dpl_volume/../../etc/passwd", "/v1/dpl_volume/%2e%2e/", "/v1/dpl_volume/./../dpl_pool/x/"]) {
      const res = await dplRequest(server, "GET", path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      ErrorBody.parse(res.body);
    }
    const put = await dplRequest(server, "PUT", "/v1/dpl_volume/..%2Fpool/", { body: { metadata: { pool_uuid: server.poolId, total_capacity: 16 * MiB } } });
    expectError(put, 400, "INVALID_ARGUMENT", "path.volume");
  });

  it("answers 404 NOT_FOUND for missing objects and unknown routes", async () => {
    expectError(await dplRequest(server, "GET", `/v1/dpl_volume/${hex()}/`), 404, "NOT_FOUND");
    expectError(await dplRequest(server, "GET", `/v1/dpl_pool/${hex()}/`), 404, "NOT_FOUND");
    expectError(await dplRequest(server, "GET", `/dpl_volgroup/${hex()}/`), 404, "NOT_FOUND");
    expectError(await dplRequest(server, "GET", `/v1/dpl_volume/${hex()}/cdmi_snapshots/${hex()}/`), 404, "NOT_FOUND");
    expectError(await dplRequest(server, "GET", "/v1/nothing_here/"), 404, "NOT_FOUND");
    expectError(await dplRequest(server, "GET", `/v1/dpl_volume/${hex()}/?event_uuid=${hex()}`), 404, "NOT_FOUND");
  });

  it("refuses bodies over the size limit with 413", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${hex()}/`, { rawBody: JSON.stringify({ metadata: { display_description: "x".repeat(2 * MiB) } }) });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("accepts application/json as well as application/cdmi-container", async () => {
    const id = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      headers: { "content-type": "application/json", accept: "application/json", prefer: "wait=30" },
      body: { metadata: { pool_uuid: server.poolId, total_capacity: 16 * MiB } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers["content-type"]).toContain("application/json");
  });
});

describe("OpenAPI", () => {
  it("serves the committed OpenAPI document at /openapi.json", async () => {
    const { readFileSync } = await import("node:fs");
    const res = await dplRequest(server, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(`${__dirname}/../../server/openapi.json`, "utf8")));
  });
});

describe("authentication", () => {
  const routes: Array<["GET" | "PUT" | "DELETE", string]> = [
    ["GET", "/v1/dpl_system/"], ["GET", "/dpl_system/"], ["GET", "/v1/dpl_pool/"], ["GET", "/v1/dpl_volume/"],
    ["PUT", `/v1/dpl_volume/${"a".repeat(32)}/`], ["DELETE", `/v1/dpl_volume/${"a".repeat(32)}/`],
    ["GET", `/dpl_volgroup/${"b".repeat(32)}/`], ["GET", "/v1/dpl_export/"], ["GET", "/openapi.json"],
    ["GET", "/v1/dpl_system/reconcile/"], ["GET", "/no/such/route"],
  ];

  it("refuses every route without credentials, with a wrong password, and with a wrong user", async () => {
    for (const [method, path] of routes) {
      const auths = path === "/v1/dpl_volume/" || path === "/openapi.json"
        ? [null, { username: "admin", password: "wrong" }, { username: "root", password: server.password }, { username: "admin", password: `${server.password}x` }]
        : [null, { username: "admin", password: server.password.slice(1) }];
      for (const auth of auths) {
        const res = await dplRequest(server, method, path, { auth, body: method === "PUT" ? { metadata: {} } : undefined });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers["www-authenticate"]).toContain("Basic");
        ErrorBody.parse(res.body);
      }
    }
    // The right credentials still work right after many failures (the delay slows, never locks out).
    expect((await dplRequest(server, "GET", "/v1/dpl_system/")).status).toBe(200);
  });

  it("slows down a client that keeps guessing wrong", async () => {
    const wrong = { username: "admin", password: "guess" };
    for (let i = 0; i < 8; i++) await dplRequest(server, "GET", "/v1/dpl_system/", { auth: wrong });
    const started = Date.now();
    expect((await dplRequest(server, "GET", "/v1/dpl_system/", { auth: wrong })).status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect((await dplRequest(server, "GET", "/v1/dpl_system/")).status).toBe(200);
  });

  it("keeps the password out of the server's files other than admin-password (mode 0600)", async () => {
    const { statSync } = await import("node:fs");
    expect(statSync(`${server.stateDir}/admin-password`).mode & 0o777).toBe(0o600);
    expect(statSync(`${server.stateDir}/metadata.db`).mode & 0o777).toBe(0o600);
  });
});
