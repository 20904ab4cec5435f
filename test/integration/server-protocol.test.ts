/**
 * Replays every request of dpl-protocol.md §3 (the historical Cinder client's bodies, URLs and
 * headers) against the real server on btrfs + tgtd, checking the statuses and fields that client
 * reads, and parsing every reply with the shared wire schemas.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EventReply, PoolListReply, PoolReply, SnapshotListReply, SnapshotReply, SystemReply, TargetListReply,
  TargetReply, VolgroupReply, VolgroupSnapshotReply, VolumeReply,
} from "@prophetstor/dpl-provider/wire";
import { dplRequest, startServer, type DplResponse, type RunningServer } from "../support/dpl-server";

const execFileAsync = promisify(execFile);
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const hex = (): string => randomUUID().replace(/-/g, "");

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

function metadataOf(res: DplResponse): Record<string, unknown> {
  const body = res.body as { metadata?: Record<string, unknown> } | undefined;
  return body?.metadata ?? {};
}

/** The historical client's wait: poll `?event_uuid=` until completionStatus leaves Processing. */
async function waitEvent(collection: string, objectId: string, res: DplResponse): Promise<DplResponse> {
  expect(res.status, res.text).toBe(202);
  const eventId = metadataOf(res).event_uuid;
  expect(typeof eventId).toBe("string");
  for (let i = 0; i < 600; i++) {
    const poll = await dplRequest(server, "GET", `/v1/${collection}/${objectId}/?event_uuid=${String(eventId)}`);
    expect(poll.status, poll.text).toBe(200);
    const status = (poll.body as { completionStatus: string }).completionStatus;
    if (status !== "Processing") {
      EventReply.parse(poll.body);
      return poll;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("event never finished");
}

async function expectComplete(collection: string, objectId: string, res: DplResponse): Promise<DplResponse> {
  const done = await waitEvent(collection, objectId, res);
  expect((done.body as { completionStatus: string }).completionStatus, done.text).toBe("Complete");
  return done;
}

async function createVolume(id: string, size: number, thin = true): Promise<void> {
  const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
    body: {
      metadata: {
        display_name: id, display_description: "made by the protocol replay", pool_uuid: server.poolId,
        total_capacity: size, maximum_snapshot: 1024, properties: { thin_provision: thin },
      },
    },
  });
  await expectComplete("dpl_volume", id, res);
}

describe("system and pools (§3.1-3.4)", () => {
  it("GET /v1/dpl_system/ answers vendor, version, capabilities and the CDMI header", async () => {
    const res = await dplRequest(server, "GET", "/v1/dpl_system/");
    expect(res.status).toBe(200);
    expect(res.headers["x-cdmi-specification-version"]).toBe("1.0.2");
    expect(res.headers["content-type"]).toContain("application/cdmi-container");
    const reply = SystemReply.parse(res.body);
    expect(reply.metadata.vendor).not.toBe("");
    expect(reply.metadata.version).not.toBe("");
    expect(reply.metadata.capabilities.protocols).toEqual(["iscsi"]);
    expect(reply.metadata.iscsi_portals).toEqual([server.portal]);
  });

  it("pool list is [uuid, name] pairs, with and without /v1 and the trailing slash", async () => {
    for (const path of ["/v1/dpl_pool/", "/dpl_pool/", "/v1/dpl_pool"]) {
      const res = await dplRequest(server, "GET", path);
      expect(res.status, path).toBe(200);
      expect(PoolListReply.parse(res.body).children).toContainEqual([server.poolId, "default"]);
    }
  });

  it("pool detail carries pool_uuid and byte capacities", async () => {
    const res = await dplRequest(server, "GET", `/v1/dpl_pool/${server.poolId}/`);
    expect(res.status).toBe(200);
    const reply = PoolReply.parse(res.body);
    expect(reply.completionStatus).toBe("Complete");
    expect(reply.metadata.pool_uuid).toBe(server.poolId);
    expect(reply.metadata.total_capacity).toBeGreaterThan(3 * GiB);
    expect(reply.metadata.available_capacity).toBeGreaterThan(0);
    expect(reply.metadata.available_capacity).toBeLessThanOrEqual(reply.metadata.total_capacity);
    expect(reply.metadata.state).toBe("Online");
  });
});

describe("volumes (§3.5-3.9)", () => {
  it("creates thin and thick volumes (202 + event), then GET shows them Complete", async () => {
    const thin = hex();
    const thick = hex();
    const started = Date.now();
    await createVolume(thin, 1 * GiB, true);
    const latency = Date.now() - started;
    console.log(`volume create through HTTP (202 + event poll): ${latency} ms`);
    await createVolume(thick, 64 * MiB, false);
    const thinReply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${thin}/`)).body);
    expect(thinReply.completionStatus).toBe("Complete");
    expect(thinReply.metadata.total_capacity).toBe(GiB);
    expect(thinReply.metadata.properties.thin_provision).toBe(true);
    expect(thinReply.metadata.used_capacity).toBeLessThan(GiB);
    expect(thinReply.exports).toEqual({});
    const thickReply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${thick}/`)).body);
    expect(thickReply.metadata.properties.thin_provision).toBe(false);
    expect(thickReply.metadata.used_capacity).toBeGreaterThanOrEqual(64 * MiB);
  });

  it("a retried create is idempotent; a different spec for the same id is 409 ALREADY_EXISTS", async () => {
    const id = hex();
    await createVolume(id, 128 * MiB);
    const again = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      body: { metadata: { display_name: id, display_description: "made by the protocol replay", pool_uuid: server.poolId, total_capacity: 128 * MiB, maximum_snapshot: 1024, properties: { thin_provision: true } } },
    });
    expect(again.status).toBe(200);
    expect(VolumeReply.parse(again.body).metadata.total_capacity).toBe(128 * MiB);
    const different = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      body: { metadata: { display_name: id, pool_uuid: server.poolId, total_capacity: 256 * MiB, properties: { thin_provision: true } } },
    });
    expect(different.status).toBe(409);
    expect(different.body).toMatchObject({ error: { code: "ALREADY_EXISTS" } });
  });

  it("extends with the §3.6 body and refuses a shrink naming total_capacity", async () => {
    const id = hex();
    await createVolume(id, 128 * MiB);
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      body: { metadata: { display_name: id, display_description: null, total_capacity: 256 * MiB, maximum_snapshot: 1024 } },
    });
    await expectComplete("dpl_volume", id, res);
    expect(VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${id}/`)).body).metadata.total_capacity).toBe(256 * MiB);
    const shrink = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, { body: { metadata: { total_capacity: 64 * MiB } } });
    expect(shrink.status).toBe(400);
    expect(shrink.body).toMatchObject({ error: { code: "INVALID_ARGUMENT", field: "metadata.total_capacity" } });
  });

  it("refuses a size the pool could never hold with INSUFFICIENT_CAPACITY and creates nothing", async () => {
    const id = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      body: { metadata: { pool_uuid: server.poolId, total_capacity: 2 ** 50, properties: { thin_provision: true } } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: "INSUFFICIENT_CAPACITY", field: "metadata.total_capacity" } });
    expect((await dplRequest(server, "GET", `/v1/dpl_volume/${id}/`)).status).toBe(404);
  });

  it("deletes with the force body: 202, then GET is Processing or 404 until gone, then 404; again 404", async () => {
    const id = hex();
    await createVolume(id, 64 * MiB);
    const res = await dplRequest(server, "DELETE", `/v1/dpl_volume/${id}/`, { body: { metadata: { force: true } } });
    expect(res.status).toBe(202);
    let status = 0;
    for (let i = 0; i < 300; i++) {
      const get = await dplRequest(server, "GET", `/v1/dpl_volume/${id}/`);
      status = get.status;
      if (status === 404) break;
      expect(status).toBe(200);
      expect((get.body as { completionStatus: string }).completionStatus).toBe("Processing");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(404);
    const again = await dplRequest(server, "DELETE", `/v1/dpl_volume/${id}/`, { body: { metadata: { force: true } } });
    expect(again.status).toBe(404);
  });

  it("Prefer: wait=N answers 201 with the final object instead of 202", async () => {
    const id = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${id}/`, {
      headers: { prefer: "wait=30" },
      body: { metadata: { pool_uuid: server.poolId, total_capacity: 64 * MiB, properties: { thin_provision: true } } },
    });
    expect(res.status, res.text).toBe(201);
    const reply = VolumeReply.parse(res.body);
    expect(reply.completionStatus).toBe("Complete");
    expect(reply.metadata.event_uuid).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("snapshots, copy, spawn, clone, rollback (§3.10-3.17)", () => {
  const volume = hex();
  const snapshot = hex();

  beforeAll(async () => {
    await createVolume(volume, 128 * MiB);
  });

  it("creates a snapshot with the §3.10 body, polled on the parent volume", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      body: { metadata: { display_name: "snap one", display_description: "first" }, snapshot },
    });
    await expectComplete("dpl_volume", volume, res);
    const get = await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/cdmi_snapshots/${snapshot}/`);
    expect(get.status).toBe(200);
    const reply = SnapshotReply.parse(get.body);
    expect(reply.metadata).toMatchObject({ snapshot_uuid: snapshot, origin_uuid: volume, total_capacity: 128 * MiB, display_name: "snap one" });
    const list = SnapshotListReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/cdmi_snapshots/`)).body);
    expect(list.children).toContainEqual([snapshot, "snap one"]);
  });

  it("copies into a new volume with the new volume's id in the copy path (D8)", async () => {
    const copy = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${copy}/`, {
      body: {
        metadata: { snapshot_operation: "copy", display_name: copy, display_description: "", pool_uuid: server.poolId, maximum_snapshot: 1024, properties: { thin_provision: true } },
        copy: `/${copy}/cdmi_snapshots/${snapshot}`,
      },
    });
    await expectComplete("dpl_volume", copy, res);
    const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${copy}/`)).body);
    expect(reply.metadata.total_capacity).toBe(128 * MiB);
    expect(reply.metadata.origin_uuid).toBe(snapshot);
  });

  it("spawns from /<parent>/cdmi_snapshots/<snap>", async () => {
    const spawned = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${spawned}/`, {
      body: { metadata: { snapshot_operation: "spawn", display_name: spawned, display_description: null }, copy: `/${volume}/cdmi_snapshots/${snapshot}` },
    });
    await expectComplete("dpl_volume", spawned, res);
  });

  it("clones with a bare source id and a larger size", async () => {
    const clone = hex();
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${clone}/`, {
      body: {
        metadata: { snapshot_operation: "clone", display_name: clone, display_description: null, pool_uuid: server.poolId, total_capacity: 256 * MiB, maximum_snapshot: 1024, properties: { thin_provision: true } },
        copy: volume,
      },
    });
    await expectComplete("dpl_volume", clone, res);
    const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${clone}/`)).body);
    expect(reply.metadata.total_capacity).toBe(256 * MiB);
    expect(reply.metadata.origin_uuid).toBe(volume);
  });

  it("rolls back with {copy: path} and no metadata", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { copy: `/${volume}/cdmi_snapshots/${snapshot}` } });
    await expectComplete("dpl_volume", volume, res);
  });

  it("deletes a snapshot (202, poll the parent), then 404 for a second delete", async () => {
    const extra = hex();
    await expectComplete("dpl_volume", volume, await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, { body: { snapshot: extra } }));
    const res = await dplRequest(server, "DELETE", `/v1/dpl_volume/${volume}/cdmi_snapshots/${extra}/`);
    await expectComplete("dpl_volume", volume, res);
    expect((await dplRequest(server, "DELETE", `/v1/dpl_volume/${volume}/cdmi_snapshots/${extra}/`)).status).toBe(404);
  });

  it("keeps snapshots usable after their volume is deleted", async () => {
    const source = hex();
    const snap = hex();
    await createVolume(source, 64 * MiB);
    await expectComplete("dpl_volume", source, await dplRequest(server, "PUT", `/v1/dpl_volume/${source}/`, { body: { snapshot: snap } }));
    const del = await dplRequest(server, "DELETE", `/v1/dpl_volume/${source}/`, { body: { metadata: { force: true } }, headers: { prefer: "wait=30" } });
    expect(del.status, del.text).toBe(200);
    expect((await dplRequest(server, "GET", `/v1/dpl_volume/${source}/cdmi_snapshots/${snap}/`)).status).toBe(200);
    const copy = hex();
    await expectComplete("dpl_volume", copy, await dplRequest(server, "PUT", `/v1/dpl_volume/${copy}/`, {
      body: { metadata: { snapshot_operation: "copy", pool_uuid: server.poolId }, copy: `/${copy}/cdmi_snapshots/${snap}` },
    }));
  });
});

describe("iSCSI exports (§3.18-3.19)", () => {
  const volume = hex();
  const initiator = "iqn.1993-08.org.debian:01:abcdef012345";

  beforeAll(async () => {
    await createVolume(volume, 64 * MiB);
  });

  it("assigns with LUN 0; GET shows the export; tgtd serves it to that initiator", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      body: {
        metadata: { export_operation: "assign" },
        exports: { "Network/iSCSI": { logical_unit_number: 0, logical_unit_name: randomUUID(), permissions: [initiator], portals: ["10.0.0.1:3260"] } },
      },
    });
    await expectComplete("dpl_volume", volume, res);
    const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`)).body);
    const entry = reply.exports["Network/iSCSI"]?.[0];
    expect(entry).toBeDefined();
    expect(entry?.target_identifier).toBe(`iqn.2025-01.org.opendpl:${volume}`);
    expect(entry?.portals).toEqual([server.portal]);
    expect(entry?.logical_unit_number).toBe(1);
    expect(entry?.permissions).toEqual([{ [initiator]: 1 }]);
    expect(entry?.authentication).toEqual({ method: "None" });
    const { stdout } = await execFileAsync("iscsi-ls", ["-s", "-i", initiator, `iscsi://${server.portal}`], { timeout: 30_000 });
    expect(stdout).toContain(`iqn.2025-01.org.opendpl:${volume}`);
  });

  it("unassigns case-insensitively (D22); a second unassign is 404; the target is gone", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      body: { metadata: { export_operation: "unassign" }, exports: { "Network/iSCSI": { target_identifier: "", permissions: [initiator.toUpperCase().replace("IQN.", "iqn.")] } } },
    });
    await expectComplete("dpl_volume", volume, res);
    const reply = VolumeReply.parse((await dplRequest(server, "GET", `/v1/dpl_volume/${volume}/`)).body);
    expect(reply.exports["Network/iSCSI"]).toBeUndefined();
    const again = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      body: { metadata: { export_operation: "unassign" }, exports: { "Network/iSCSI": { target_identifier: "", permissions: [initiator] } } },
    });
    expect(again.status).toBe(404);
    // iscsi-ls fails outright when discovery finds no target for this initiator.
    const listed = await execFileAsync("iscsi-ls", ["-s", "-i", initiator, `iscsi://${server.portal}`], { timeout: 30_000 })
      .then((r) => r.stdout, () => "");
    expect(listed).not.toContain(volume);
  });

  it("refuses FC with UNSUPPORTED", async () => {
    const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${volume}/`, {
      body: { metadata: { export_operation: "assign" }, exports: { "Network/FC": { target_identifier: "21:00:00:24:ff:00:00:01", logical_unit_number: -1, permissions: ["21:00:00:24:ff:00:00:02"] } } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: "UNSUPPORTED" } });
    expect(JSON.stringify(res.body)).toContain("no FC target engine");
  });
});

describe("targets (§3.22-3.26)", () => {
  it("creates, gets, lists and deletes a target", async () => {
    const id = hex();
    const create = await dplRequest(server, "PUT", `/v1/dpl_export/${id}/`, {
      body: { metadata: { type: "target", protocol: "iscsi", display_name: id, display_description: "", address: `iqn.2025-01.org.example:${id}` } },
    });
    expect(create.status, create.text).toBe(200);
    TargetReply.parse(create.body);
    const get = await dplRequest(server, "GET", `/v1/dpl_export/${id}/`);
    expect(TargetReply.parse(get.body).metadata.address).toBe(`iqn.2025-01.org.example:${id}`);
    const list = TargetListReply.parse((await dplRequest(server, "GET", "/v1/dpl_export/?type=target")).body);
    expect(list.children).toContainEqual([id, id, `iqn.2025-01.org.example:${id}`]);
    expect((await dplRequest(server, "DELETE", `/v1/dpl_export/${id}/`)).status).toBe(200);
    expect((await dplRequest(server, "GET", `/v1/dpl_export/${id}/`)).status).toBe(404);
    expect((await dplRequest(server, "DELETE", `/v1/dpl_export/${id}/`)).status).toBe(404);
    TargetListReply.parse((await dplRequest(server, "GET", "/v1/dpl_export/?type=initiator")).body);
  });
});

describe("volume groups (§3.27-3.33)", () => {
  it("create/get/join/leave/delete without /v1, group snapshot with /v1", async () => {
    const group = hex();
    const member = hex();
    await createVolume(member, 64 * MiB);
    const create = await dplRequest(server, "PUT", `/dpl_volgroup/${group}/`, {
      body: { metadata: { volume: [], display_name: "cg one", display_description: null, maximum_snapshot: 1024, properties: { snapshot_rotation: true } } },
    });
    expect(create.status, create.text).toBe(200);
    expect(VolgroupReply.parse(create.body).children).toEqual([]);
    const join = await dplRequest(server, "PUT", `/dpl_volgroup/${group}/`, { body: { metadata: { volume_group_operation: "join", volume: [member] } } });
    expect(join.status, join.text).toBe(200);
    expect(VolgroupReply.parse((await dplRequest(server, "GET", `/dpl_volgroup/${group}/`)).body).children).toEqual([member]);

    const groupSnapshot = hex();
    const snap = await dplRequest(server, "PUT", `/v1/dpl_volgroup/${group}/`, {
      body: { metadata: { display_name: groupSnapshot, display_description: "" }, snapshot: groupSnapshot },
    });
    await expectComplete("dpl_volgroup", group, snap);
    const get = await dplRequest(server, "GET", `/v1/dpl_volgroup/${group}/cdmi_snapshots/${groupSnapshot}/`);
    expect(get.status).toBe(200);
    const memberSnapshot = VolgroupSnapshotReply.parse(get.body).metadata.member[member];
    expect(memberSnapshot).toMatch(/^[0-9a-f]{32}$/);
    // Cinder makes a volume from one member of a group snapshot with the member's snapshot id.
    const fromMember = hex();
    await expectComplete("dpl_volume", fromMember, await dplRequest(server, "PUT", `/v1/dpl_volume/${fromMember}/`, {
      body: { metadata: { snapshot_operation: "copy", pool_uuid: server.poolId }, copy: `/${fromMember}/cdmi_snapshots/${String(memberSnapshot)}` },
    }));

    const leave = await dplRequest(server, "PUT", `/dpl_volgroup/${group}/`, { body: { metadata: { volume_group_operation: "leave", volume: [member] } } });
    expect(leave.status).toBe(200);
    expect(VolgroupReply.parse(leave.body).children).toEqual([]);
    const del = await dplRequest(server, "DELETE", `/dpl_volgroup/${group}/`, { body: { metadata: { force: true } } });
    expect(del.status).toBe(204);
    expect((await dplRequest(server, "DELETE", `/dpl_volgroup/${group}/`, { body: { metadata: { force: true } } })).status).toBe(404);
  });
});
