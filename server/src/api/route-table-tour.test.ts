/**
 * Every GET of the route table, on in-memory engines with one object of each kind: each answers
 * 200 with a body its reply schema accepts (the schema the client parses with and the OpenAPI
 * document publishes). Then the PUTs and DELETEs no other unit test reaches: the FC name-server
 * query and a target record's create and delete. The replication is synced to a second
 * in-memory server; its transfer route (target side, mid-upload) is toured by
 * replication-service.test.ts and test/integration/replication.test.ts instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DPL_ROUTES, pathOf, type WireRoute } from "@prophetstor/dpl-provider/wire";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, IN_MEMORY_CREDENTIALS, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const ids = { pool: hexId(0xd1), volume: hexId(0xd2), snapshot: hexId(0xd3), group: hexId(0xd4), groupSnapshot: hexId(0xd5), image: hexId(0xd6), target: hexId(0xd7), replication: hexId(0xd8) };
const peerPool = hexId(0xd9);

let server: InMemoryServer;
let peer: InMemoryServer;

async function expectCreated(path: string, body: unknown): Promise<void> {
  const reply = await server.put(path, body);
  expect(reply.statusCode, `${path}: ${reply.body}`).toBeLessThan(300);
}

beforeAll(async () => {
  server = await startInMemoryServer({}, { replicationUrl: "https://tour.in-memory" });
  peer = await startInMemoryServer({}, { replicationUrl: "https://tour-peer.in-memory" });
  expect((await peer.put(`/v1/dpl_pool/${peerPool}/`, { metadata: poolCreateMetadata({ name: "peer", devices: [{ type: "image_file", size: 4 * GiB }] }) })).statusCode).toBe(201);
  await expectCreated(`/v1/dpl_pool/${ids.pool}/`, { metadata: poolCreateMetadata({ name: "tour", devices: [{ type: "image_file", size: 4 * GiB }] }) });
  await expectCreated(`/v1/dpl_volume/${ids.volume}/`, { metadata: volumeCreateMetadata({ poolId: ids.pool, sizeBytes: 64 * MiB }) });
  server.disks.file(`/memory/pools/${ids.pool}/volumes/${ids.volume}/data`).content = "tour data";
  await expectCreated(`/v1/dpl_volume/${ids.volume}/`, { snapshot: ids.snapshot });
  await expectCreated(`/v1/dpl_volgroup/${ids.group}/`, { metadata: { volume: [ids.volume] } });
  await expectCreated(`/v1/dpl_volgroup/${ids.group}/`, { snapshot: ids.groupSnapshot });
  await expectCreated(`/v1/dpl_image/${ids.image}/`, { metadata: { source_volume: ids.volume, format: "raw" } });
  await expectCreated(`/v1/dpl_export/${ids.target}/`, { metadata: { type: "target", protocol: "iscsi" } });
  const target = { url: "https://tour-peer.in-memory", ...IN_MEMORY_CREDENTIALS };
  await expectCreated(`/v1/dpl_replication/${ids.replication}/`, { metadata: { source_volume: ids.volume, target, target_pool_uuid: peerPool } });
  await expectCreated(`/v1/dpl_replication/${ids.replication}/`, { metadata: { replication_operation: "sync" } });
});
afterAll(async () => {
  await server.close();
  await peer.close();
});

/** The ids a route's placeholders stand for; a group's snapshot is the group snapshot. */
function idsFor(name: string, wireRoute: WireRoute): string[] {
  return wireRoute.params.map((param) => {
    if (param === "snapshot" && name.startsWith("group")) return ids.groupSnapshot;
    const id = (ids as Record<string, string | undefined>)[param];
    if (id === undefined) throw new Error(`no test object for {${param}} of ${name}`);
    return id;
  });
}

const TOURED_ELSEWHERE = new Set(["replicationTransfer"]);
const gets = Object.entries(DPL_ROUTES).filter(([name, wireRoute]) => wireRoute.operations.get !== undefined && !TOURED_ELSEWHERE.has(name));

describe("every GET of the route table", () => {
  it.each(gets)("%s answers 200 with what its reply schema accepts", async (name, wireRoute) => {
    const reply = await server.request({ method: "GET", url: pathOf(wireRoute, idsFor(name, wireRoute)) });
    expect(reply.statusCode, reply.body).toBe(200);
    const schema = wireRoute.operations.get?.replies["200"];
    if (schema === null || schema === undefined) {
      expect(reply.rawPayload.length).toBeGreaterThan(0);
      return;
    }
    const parsed = schema.safeParse(reply.json());
    expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues)).toBe(true);
  });
});

describe("the export area's other writes", () => {
  it("answers the FC name-server query with an empty table", async () => {
    const reply = await server.put(pathOf(DPL_ROUTES.snsTable), { metadata: { protocol: "fc", address: "21:00:00:24:ff:00:00:01" } });
    expect(reply.statusCode, reply.body).toBe(200);
    expect(reply.json()).toMatchObject({ metadata: { sns_table: [] } });
  });

  it("deletes a target record, after which it is gone", async () => {
    const target = pathOf(DPL_ROUTES.target, [ids.target]);
    expect((await server.request({ method: "DELETE", url: target })).statusCode).toBe(200);
    expect((await server.request({ method: "GET", url: target })).statusCode).toBe(404);
  });
});
