import { describe, expect, it } from "vitest";
import { DplOperationError, ProtocolError, TimeoutError, iscsiUrl } from "./index";
import { caught, useClientTestBed } from "./testing/client-test-bed";
import { eventReply, sendJson, volumeReply, type Handler, type LocalServer } from "./testing/local-server";

const VOL = "0123456789abcdef0123456789abcdef";
const SNAP = "fedcba9876543210fedcba9876543210";
const POOL = "a".repeat(32);
const EV = "e".repeat(32);
const INITIATOR = "iqn.2024-01.org.example:host1";

const { serve, clientFor } = useClientTestBed({ password: "pw" });

/** A server that accepts a PUT with 202 and reports `Processing` for the first `processingPolls` polls. */
function asyncServer(processingPolls: number, finalStatus: "Complete" | "Error" = "Complete", volume: unknown = volumeReply(VOL)): Handler {
  let polls = 0;
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "PUT" || req.method === "DELETE") { sendJson(res, 202, { metadata: { event_uuid: EV } }); return; }
    if (url.searchParams.get("event_uuid") === EV) {
      polls++;
      const status = polls <= processingPolls ? "Processing" : finalStatus;
      sendJson(res, 200, eventReply(EV, VOL, status, status === "Error" ? { code: "ENGINE_FAILURE", message: "mkfs.btrfs exited 1" } : undefined)); return;
    }
    sendJson(res, 200, volume);
  };
}

const polls = (server: LocalServer) => server.requests.filter((r) => r.url.includes("event_uuid="));

describe("event waits", () => {
  it("polls ?event_uuid= with Prefer: wait and short first sleeps, then returns the final object", async () => {
    const server = await serve(asyncServer(3));
    const client = clientFor(server.url, { preferWaitSeconds: 7 });
    const started = Date.now();
    const volume = await client.createVolume(VOL, { poolId: POOL, sizeBytes: 2 ** 30 });
    expect(volume.objectID).toBe(VOL);
    // Three polls a second apart (the fallback delay) take at least 3 s; this leaves a busy machine room.
    expect(Date.now() - started).toBeLessThan(2_900);
    const [put] = server.requests;
    expect(put?.headers.prefer).toBe("wait=7");
    const eventPolls = polls(server);
    expect(eventPolls).toHaveLength(4);
    for (const poll of eventPolls) {
      expect(poll.url).toBe(`/v1/dpl_volume/${VOL}/?event_uuid=${EV}`);
      expect(poll.headers.prefer).toBe("wait=7");
    }
    // The server answered at once (it ignores Prefer): sleeps of 10, 25, 50 ms between polls (each
    // gap at least its sleep, less a millisecond of timer rounding). 1 s fallback sleeps would sum to 3 s.
    const gaps = eventPolls.slice(1).map((p, i) => p.at - (eventPolls[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(24);
    expect(gaps[2]).toBeGreaterThanOrEqual(49);
    expect(gaps.reduce((a, b) => a + b, 0)).toBeLessThan(2_900);
    expect(server.requests.at(-1)).toMatchObject({ method: "GET", url: `/v1/dpl_volume/${VOL}/` });
  });

  it("does not sleep after a poll the server held for its full Prefer wait", async () => {
    let pollCount = 0;
    const server = await serve((req, res) => {
      if (req.method === "PUT") { sendJson(res, 202, { metadata: { event_uuid: EV } }); return; }
      if ((req.url ?? "").includes("event_uuid")) {
        pollCount++;
        const status = pollCount === 1 ? "Processing" : "Complete";
        if (pollCount === 1) return void setTimeout(() => { sendJson(res, 200, eventReply(EV, VOL, status)); }, 1_000);
        sendJson(res, 200, eventReply(EV, VOL, status)); return;
      }
      sendJson(res, 200, volumeReply(VOL));
    });
    const client = clientFor(server.url, { preferWaitSeconds: 1, eventPollDelaysMs: [5_000] });
    await client.extendVolume(VOL, 2 ** 31);
    const [first, second] = polls(server);
    expect(first?.headers.prefer).toBe("wait=1");
    // Held 1 s; the next poll follows at once. Sleeping the 5 s poll delay as well would take 6 s.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeLessThan(4_000);
  });

  it("ends an event that never finishes with a TimeoutError naming operation and event, within the deadline", async () => {
    const server = await serve(asyncServer(Number.POSITIVE_INFINITY));
    const client = clientFor(server.url, { operationTimeoutMs: 800, preferWaitSeconds: 0 });
    const started = Date.now();
    const err = await caught(client.createVolume(VOL, { poolId: POOL, sizeBytes: 2 ** 30 }));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ operation: "create volume", objectId: VOL, eventId: EV, code: "TIMEOUT" });
    // The deadline may pass between polls or during one; either way the message is the same (a
    // poll cut short by the deadline is not reported as a failure of its own).
    expect(err.message).toBe(`create volume ${VOL}: timed out after 800 ms waiting for event ${EV} to finish`);
    expect(elapsed).toBeGreaterThanOrEqual(790);
    // Room for a busy machine; a wait that ignored the deadline would poll on until the test timeout.
    expect(elapsed).toBeLessThan(3_000);
    // Bounded polling: at most a few per second once the delays reach their cap.
    expect(polls(server).length).toBeLessThan(15);
    expect(polls(server)[0]?.headers.prefer).toBeUndefined();
  });

  it("turns an Error event into DplOperationError with the event's code and message", async () => {
    const server = await serve(asyncServer(1, "Error"));
    const err = await caught(clientFor(server.url).createVolume(VOL, { poolId: POOL, sizeBytes: 2 ** 30 }));
    expect(err).toBeInstanceOf(DplOperationError);
    expect(err).toMatchObject({ operation: "create volume", objectId: VOL, code: "ENGINE_FAILURE", eventId: EV });
    expect(err.message).toBe(`create volume ${VOL}: ENGINE_FAILURE: mkfs.btrfs exited 1 (event ${EV})`);
  });

  it("takes a 404 on a delete's event poll as done", async () => {
    const server = await serve((req, res) => {
      if (req.method === "DELETE") { sendJson(res, 202, { metadata: { event_uuid: EV } }); return; }
      sendJson(res, 404, { error: { code: "NOT_FOUND", message: "gone" } });
    });
    await expect(clientFor(server.url).deleteVolume(VOL)).resolves.toBeUndefined();
    expect(polls(server)).toHaveLength(1);
  });

  it("polls a snapshot's events on its parent volume and returns the snapshot", async () => {
    const snapshot = {
      objectType: "application/cdmi-container", objectID: SNAP, objectName: SNAP, parentURI: `/dpl_volume/${VOL}/cdmi_snapshots`, parentID: VOL,
      domainURI: "", capabilitiesURI: "", completionStatus: "Complete", percentComplete: 100, childrenrange: "", children: [],
      metadata: {
        type: "snapshot", snapshot_uuid: SNAP, display_name: "nightly", display_description: null, origin_uuid: VOL, total_capacity: 2 ** 30,
        snapshot_used_capacity: 0, volume_group_uuid: null, state: "available", ctime: 1,
      },
    };
    const server = await serve((req, res) => {
      if (req.method === "PUT") { sendJson(res, 202, { metadata: { event_uuid: EV } }); return; }
      if ((req.url ?? "").includes("event_uuid")) { sendJson(res, 200, eventReply(EV, VOL, "Complete")); return; }
      sendJson(res, 200, snapshot);
    });
    const reply = await clientFor(server.url).createSnapshot(VOL, SNAP, { name: "nightly" });
    expect(reply.metadata.display_name).toBe("nightly");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ metadata: { display_name: "nightly" }, snapshot: SNAP });
    expect(server.requests.map((r) => r.url)).toEqual([
      `/v1/dpl_volume/${VOL}/`,
      `/v1/dpl_volume/${VOL}/?event_uuid=${EV}`,
      `/v1/dpl_volume/${VOL}/cdmi_snapshots/${SNAP}/`,
    ]);
  });
});

describe("iSCSI assign", () => {
  const exported = {
    "Network/iSCSI": [{
      target_identifier: "iqn.2024-01.org.dpl:vol.0123",
      portals: ["[::1]:3260", "127.0.0.1:3260"],
      logical_unit_number: 1,
      logical_unit_name: VOL,
      permissions: [{ [INITIATOR]: 1 }],
      authentication: { method: "None" },
    }],
  };

  it("returns target IQN, portals and LUN for each initiator, matching IQNs case-insensitively", async () => {
    const server = await serve((req, res) => { sendJson(res, 200, req.method === "PUT" ? {} : volumeReply(VOL, { exports: exported })); });
    const attachment = await clientFor(server.url).assignIscsi(VOL, { initiators: [INITIATOR.toUpperCase().replace("IQN.", "iqn.")] });
    const [connection] = attachment.connections;
    expect(connection).toMatchObject({ targetIqn: "iqn.2024-01.org.dpl:vol.0123", portal: "[::1]:3260", lun: 1, initiator: INITIATOR });
    expect(iscsiUrl(connection ?? { portal: "", targetIqn: "", lun: 0 })).toBe("iscsi://[::1]:3260/iqn.2024-01.org.dpl:vol.0123/1");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({
      metadata: { export_operation: "assign" },
      exports: { "Network/iSCSI": { logical_unit_number: 0, permissions: [INITIATOR] } },
    });
  });

  it("fails instead of returning empty connection info when the export is missing (D21)", async () => {
    const server = await serve((req, res) => { sendJson(res, 200, req.method === "PUT" ? {} : volumeReply(VOL)); });
    const err = await caught(clientFor(server.url).assignIscsi(VOL, { initiators: [INITIATOR] }));
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toContain(`lists no iSCSI export for ${INITIATOR}`);
  });
});
