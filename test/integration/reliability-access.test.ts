/**
 * Reliability: access control, proven against the running server.
 *   - EVERY route of fastify's route table (and every method on it) refuses missing, wrong-password
 *     and wrong-user credentials with 401 + a JSON error; the OpenAPI document lists no route the
 *     table lacks. Repeated failures are slowed down, also when sent in parallel; the right
 *     credentials keep working.
 *   - TLS is on by default; the client refuses the self-signed certificate unless given the CA
 *     or the explicit insecure flag.
 *   - iSCSI: initiator ACLs, CHAP and mutual CHAP are enforced, also after a graceful restart and
 *     after a crash (SIGKILL) and restart.
 *   - Secrets (admin password, CHAP secrets) appear in no log line and no error body.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "@prophetstor/dpl-provider/wire";
import { AuthenticationError, type DplClient } from "../../provider/src/client";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { runQemuIo, type LunAddress } from "../support/iscsi-initiator";
import { concretePath, serverRouteTable, type RouteEntry } from "../reliability/route-table";
import { clientFor, MiB } from "../reliability/test-client";

const execFileAsync = promisify(execFile);

const allowed = "iqn.2025-01.org.opendpl.test:access-allowed";
const stranger = "iqn.2025-01.org.opendpl.test:access-stranger";
const chap = { username: "chap-user", secret: "Chap-Secret-0042" };
const mutualChap = { username: "target-user", secret: "Mutual-Secret-77" };
const aclVolume = "b2000000000000000000000000000001";
const chapVolume = "b2000000000000000000000000000002";
const mutualVolume = "b2000000000000000000000000000003";

let server: RunningServer;
let client: DplClient;
let routes: RouteEntry[];
/** Everything the server printed, over all its starts in this file. */
const logs: string[] = [];

beforeAll(async () => {
  routes = await serverRouteTable();
  server = await startServer();
  client = clientFor(server);
});
afterAll(async () => {
  await client.close();
  await server.stop();
});

type Method = "GET" | "PUT" | "DELETE" | "POST";

describe("HTTP authentication on every route", () => {
  it("the route table is complete: every OpenAPI path is a route", async () => {
    const doc = (await dplRequest(server, "GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const table = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(routes.length).toBeGreaterThan(30);
    for (const [path, operations] of Object.entries(doc.paths)) {
      const url = path.replace(/\{([A-Za-z_]+)\}/g, ":$1").replace(/\/$/, "");
      for (const method of Object.keys(operations).filter((m) => ["get", "put", "delete", "post"].includes(m))) {
        expect(table.has(`${method.toUpperCase()} ${url}`), `${method} ${path} in the OpenAPI document but not served`).toBe(true);
      }
    }
  });

  it("refuses every route and method with no, wrong-password and wrong-user credentials", async () => {
    const refusals = [
      null,
      { username: server.username, password: "wrong-password" },
      { username: "root", password: server.password },
      { username: server.username, password: `${server.password} ` },
    ];
    let checked = 0;
    for (const route of routes.filter((r) => r.method !== "HEAD")) {
      for (const auth of refusals) {
        const res = await dplRequest(server, route.method as Method, concretePath(route.url), {
          auth,
          ...(route.method === "PUT" ? { body: { metadata: {} } } : {}),
        });
        expect(res.status, `${route.method} ${route.url} with ${auth === null ? "no" : "wrong"} credentials`).toBe(401);
        expect(res.headers["www-authenticate"]).toContain("Basic");
        expect(ErrorBody.parse(res.body).error.code).toBe("UNAUTHENTICATED");
        expect(res.text).not.toContain(server.password);
        checked++;
        // A successful login clears this client's failure count, so the slowdown (tested below)
        // does not stretch this walk over every route.
        if (auth !== null) expect((await dplRequest(server, "GET", "/v1/dpl_system/")).status).toBe(200);
      }
      // HEAD has no body to check, but must refuse too.
      if (routes.some((r) => r.url === route.url && r.method === "HEAD") && route.method === "GET") {
        const res = await dplRequest(server, "GET", concretePath(route.url), { auth: null, headers: {} });
        expect(res.status).toBe(401);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4 * 30);
    expect((await dplRequest(server, "GET", "/v1/dpl_system/")).status).toBe(200);
  });

  it("slows down repeated wrong guesses, never locks out the right credentials", async () => {
    const wrong = { username: server.username, password: "guess" };
    const durations: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      expect((await dplRequest(server, "GET", "/v1/dpl_pool/", { auth: wrong })).status).toBe(401);
      durations.push(Date.now() - started);
    }
    // The first five are free; the tenth waits 1 s. The fastest free one is the baseline: a single
    // free request slowed by a busy machine (or by a new TLS handshake) must not hide the delay.
    const fastestFree = Math.min(...durations.slice(0, 5));
    const last = durations[durations.length - 1] ?? 0;
    expect(last).toBeGreaterThanOrEqual(fastestFree + 500);
    const ok = await dplRequest(server, "GET", "/v1/dpl_pool/");
    expect(ok.status).toBe(200);
  });

  it("answers one address's parallel wrong guesses one after another", async () => {
    const wrong = { username: server.username, password: "parallel-guess" };
    const started = Date.now();
    const guesses = Array.from({ length: 10 }, async () => {
      expect((await dplRequest(server, "GET", "/v1/dpl_pool/", { auth: wrong })).status).toBe(401);
      return Date.now() - started;
    });
    // The right credentials are never queued behind the guesses.
    const right = await dplRequest(server, "GET", "/v1/dpl_pool/");
    const rightAfter = Date.now() - started;
    expect(right.status).toBe(200);
    const slowest = Math.max(...(await Promise.all(guesses)));
    // Guesses 6..10 wait 0.25 + 0.5 + 0.75 + 1 + 1 s in a row (3.5 s); in parallel they would all be done in about 1 s.
    expect(slowest).toBeGreaterThanOrEqual(3_000);
    expect(rightAfter).toBeLessThan(slowest);
    expect((await dplRequest(server, "GET", "/v1/dpl_system/")).status).toBe(200);
  });

  it("the client reports wrong credentials as AuthenticationError without the password", async () => {
    const bad = clientFor(server, { password: "not-the-password-123" });
    try {
      const error = await bad.listVolumes().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).not.toContain("not-the-password-123");
    } finally {
      await bad.close();
    }
  });
});

describe("TLS by default", () => {
  it("serves HTTPS only, and the client trusts it only with the CA or the explicit insecure flag", async () => {
    expect(server.url.startsWith("https://")).toBe(true);
    expect(server.caPem).toContain("BEGIN CERTIFICATE");

    const untrusting = clientFor(server, { maxAttempts: 1 });
    const untrustingWithoutCa = new (untrusting.constructor as new (o: object) => DplClient)({
      endpoint: server.url, username: server.username, password: server.password, maxAttempts: 1,
    });
    await untrusting.close();
    try {
      const error = await untrustingWithoutCa.system().then(() => undefined, (e: unknown) => e);
      expect(error, "a self-signed certificate must not be trusted by default").toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/certificate|self[- ]signed|TLS/i);
    } finally {
      await untrustingWithoutCa.close();
    }

    const insecure = clientFor(server, { insecure: true });
    const insecureWithoutCa = new (insecure.constructor as new (o: object) => DplClient)({
      endpoint: server.url, username: server.username, password: server.password, insecure: true,
    });
    await insecure.close();
    try {
      expect((await insecureWithoutCa.system()).metadata.vendor.length).toBeGreaterThan(0);
    } finally {
      await insecureWithoutCa.close();
    }
    expect((await client.system()).metadata.protocol_version.length).toBeGreaterThan(0);

    // Plain HTTP on the HTTPS port gets no DPL answer.
    const plain = clientFor(server, { endpoint: server.url.replace("https://", "http://"), maxAttempts: 1 });
    try {
      await expect(plain.system()).rejects.toThrow();
    } finally {
      await plain.close();
    }
  });
});

describe("iSCSI access control", () => {
  const luns = new Map<string, LunAddress>();

  beforeAll(async () => {
    for (const id of [aclVolume, chapVolume, mutualVolume]) await client.createVolume(id, { poolId: server.poolId, sizeBytes: 16 * MiB });
    const assign = async (id: string, extra: Parameters<DplClient["assignIscsi"]>[1]): Promise<void> => {
      const { connections } = await client.assignIscsi(id, extra);
      const c = connections[0];
      if (c === undefined) throw new Error("no connection");
      luns.set(id, { portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator: allowed });
    };
    await assign(aclVolume, { initiators: [allowed] });
    await assign(chapVolume, { initiators: [allowed], chap });
    await assign(mutualVolume, { initiators: [allowed], chap, mutualChap });
  });

  function lun(id: string): LunAddress {
    const address = luns.get(id);
    if (address === undefined) throw new Error(`no LUN for ${id}`);
    return address;
  }

  async function readCapacityMutual(targetSecret: string): Promise<{ ok: boolean; output: string }> {
    const address = lun(mutualVolume);
    const url = `iscsi://${chap.username}%${chap.secret}@${address.portal}/${address.targetIqn}/${address.lun}` +
      `?target_user=${mutualChap.username}&target_password=${targetSecret}`;
    try {
      const { stdout, stderr } = await execFileAsync("iscsi-readcapacity16", ["-i", allowed, url], { timeout: 30_000 });
      return { ok: /Logical block length|Total capacity|Last LBA/i.test(stdout), output: stdout + stderr };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}` };
    }
  }

  async function expectEnforced(when: string): Promise<void> {
    const read = "read 0 64k";
    // ACL: the listed initiator gets in, any other is refused.
    expect((await runQemuIo(lun(aclVolume), read)).ok, `${when}: ACL initiator`).toBe(true);
    expect((await runQemuIo({ ...lun(aclVolume), initiator: stranger }, read)).ok, `${when}: initiator not on the ACL`).toBe(false);
    // CHAP: right secret in; none, a wrong one, or the right one from a stranger refused.
    expect((await runQemuIo({ ...lun(chapVolume), chap }, read)).ok, `${when}: CHAP, right secret`).toBe(true);
    expect((await runQemuIo(lun(chapVolume), read)).ok, `${when}: CHAP, no credentials`).toBe(false);
    expect((await runQemuIo({ ...lun(chapVolume), chap: { ...chap, secret: "Wrong-Secret-0042" } }, read)).ok, `${when}: CHAP, wrong secret`).toBe(false);
    expect((await runQemuIo({ ...lun(chapVolume), initiator: stranger, chap }, read)).ok, `${when}: CHAP, initiator not on the ACL`).toBe(false);
    // Mutual CHAP: the initiator checks the target too.
    const mutualOk = await readCapacityMutual(mutualChap.secret);
    expect(mutualOk.ok, `${when}: mutual CHAP, right target secret: ${mutualOk.output}`).toBe(true);
    expect((await readCapacityMutual("Not-The-Target-1")).ok, `${when}: mutual CHAP, wrong target secret`).toBe(false);
    expect((await runQemuIo({ ...lun(mutualVolume), chap: { ...chap, secret: "Wrong-Secret-0042" } }, read)).ok, `${when}: mutual CHAP target, wrong initiator secret`).toBe(false);
  }

  it("enforces ACLs, CHAP and mutual CHAP", async () => {
    await expectEnforced("fresh");
  });

  it("still enforces them after a graceful restart", async () => {
    logs.push(server.log());
    await server.restart();
    await expectEnforced("after restart");
  });

  it("still enforces them after a crash and restart", async () => {
    logs.push(server.log());
    await server.kill();
    await server.restart();
    await expectEnforced("after crash");
    // CHAP secrets are write-only: no reply carries them.
    const volume = await dplRequest(server, "GET", `/v1/dpl_volume/${mutualVolume}/`);
    expect(volume.text).toContain(chap.username);
    expect(volume.text).not.toContain(chap.secret);
    expect(volume.text).not.toContain(mutualChap.secret);
  });
});

describe("secrets stay secret", () => {
  it("appear in no error body and no log line", async () => {
    // Refusals that involve a secret: a bad CHAP secret, a mutual CHAP without CHAP, wrong logins.
    const badSecret = "sh0rt secret!";
    const refusals = [
      await dplRequest(server, "PUT", `/v1/dpl_volume/${aclVolume}/`, {
        body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [allowed], authentication: { chap: { username: "u", secret: badSecret } } } } },
      }),
      await dplRequest(server, "PUT", `/v1/dpl_volume/${aclVolume}/`, {
        body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [allowed], authentication: { mutual_chap: mutualChap } } } },
      }),
      await dplRequest(server, "PUT", `/v1/dpl_volume/${"f".repeat(32)}/`, {
        body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [allowed], authentication: { chap } } } },
      }),
      await dplRequest(server, "GET", "/v1/dpl_volume/", { auth: { username: server.username, password: `${server.password}-wrong` } }),
    ];
    for (const res of refusals) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      ErrorBody.parse(res.body);
      for (const secret of [badSecret, chap.secret, mutualChap.secret, server.password]) expect(res.text).not.toContain(secret);
    }
    logs.push(server.log());
    const everything = logs.join("\n");
    expect(everything.length).toBeGreaterThan(100);
    for (const secret of [chap.secret, mutualChap.secret, server.password, badSecret]) {
      expect(everything.includes(secret), `a secret appears in the server log`).toBe(false);
    }
  });
});
