/**
 * The server serves exactly the wire's route table (issue 12): every operation of every table
 * route, with and without /v1, and no DPL route besides; the table's path ids are validated by
 * fastify from the route schema before a handler runs.
 */
import { DPL_ROUTES, fastifyPathOf, type WireMethod } from "@prophetstor/dpl-provider/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";
import { servedRoutes } from "./http-server";

/** Routes that are not DPL's: Prometheus metrics and the OpenAPI document itself. */
const OUTSIDE_THE_TABLE = new Set(["/metrics", "/openapi.json"]);

let server: InMemoryServer;
beforeAll(async () => {
  server = await startInMemoryServer();
});
afterAll(() => server.close());

describe("routes from the wire's route table", () => {
  const operations = Object.values(DPL_ROUTES).flatMap((route) =>
    (Object.keys(route.operations) as WireMethod[]).map((method) => ({ method: method.toUpperCase(), url: fastifyPathOf(route) })));

  it("serve every operation of the table, with and without /v1", () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const { method, url } of operations) {
      for (const prefix of ["", "/v1"]) {
        expect(server.app.hasRoute({ method, url: `${prefix}${url}` }), `${method} ${prefix}${url}`).toBe(true);
      }
    }
  });

  it("serve no DPL route the table does not list", () => {
    const table = new Set(operations.flatMap(({ method, url }) => [`${method} ${url}`, `${method} /v1${url}`]));
    const extra = servedRoutes(server.app)
      .filter((r) => r.method !== "HEAD" && !OUTSIDE_THE_TABLE.has(r.url))
      .map((r) => `${r.method} ${r.url}`)
      .filter((r) => !table.has(r));
    expect(extra).toEqual([]);
  });

  it("refuse an id that is not 32 lowercase hex from the route's schema, naming the path segment", async () => {
    const res = await server.request({ method: "GET", url: "/v1/dpl_volume/not-an-id/cdmi_snapshots/" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "path.volume" } });
    const snapshot = await server.request({ method: "DELETE", url: `/dpl_volume/${"a".repeat(32)}/cdmi_snapshots/${"B".repeat(32)}/` });
    expect(snapshot.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "path.snapshot" } });
  });
});
