/**
 * The server's security edges, proven against the running server on real tgtd:
 *   - CHAP secrets: when tgtadm fails while it creates an account, the secret on its command line
 *     appears in no error the client (and so Pulumi) shows, no event reply, no server log line and
 *     no row of the metadata database; the half-made export is undone.
 *   - CHAP user names are one namespace in tgtd: an export that names another export's user with
 *     another secret, or in the other direction, is refused with 409 naming the field, and the
 *     first export's initiator still logs in with its own secret.
 *   - A pool's image library is data: deleting the pool without force is refused while image files
 *     exported into it remain, and the files are kept.
 *   - URL imports reach no loopback, private or link-local address unless the operator allows it
 *     (this server allows none); every refusal reads the same.
 *   - A symlink planted in an image directory under an image's name is never listed or served.
 *   - The events table stays bounded: finished events older than --event-retention are deleted.
 *
 *   - Jobs are capped (--max-jobs): one more is refused with 503 OVERLOADED and Retry-After, and
 *     is accepted once the running one ends.
 *
 * The tgtadm wrapper first on the server's PATH is the one injected fault here. It runs the real
 * tgtadm, but sends account creation for the user "trip-user" to a control port no tgtd listens
 * on (so the real binary fails the way it does when tgtd is gone), and holds account creation for
 * "slow-user" until the test releases it (a job that runs as long as the test needs).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcceptedReply, ErrorBody, EventReply } from "@prophetstor/dpl-provider/wire";
import { DplError, NotFoundError, type DplClient } from "../../provider/src/client";
import { dplRequest, startServer, type RunningServer } from "../support/dpl-server";
import { runQemuIo } from "../support/iscsi-initiator";
import { clientFor, MiB } from "../reliability/test-client";

const initiator = "iqn.2025-01.org.opendpl.test:security-edges";
const tripSecret = "Trip-Secret-9931";
const volumes = {
  trip: "c1600000000000000000000000000001",
  first: "c1600000000000000000000000000002",
  second: "c1600000000000000000000000000003",
  third: "c1600000000000000000000000000004",
  slow: "c1600000000000000000000000000005",
};

let wrapperDir: string;
let server: RunningServer;
let client: DplClient;

function writeTgtadmWrapper(dir: string): void {
  const script = [
    "#!/bin/sh",
    "# Test wrapper: the real tgtadm, except that account creation for trip-user goes to a dead control port.",
    'case " $* " in',
    '  *" --op new --user trip-user "*) shift 2; exec /usr/sbin/tgtadm -C 32700 "$@" ;;',
    `  *" --op new --user slow-user "*) while [ ! -e ${join(dir, "release")} ]; do sleep 0.1; done ;;`,
    "esac",
    'exec /usr/sbin/tgtadm "$@"',
    "",
  ].join("\n");
  writeFileSync(join(dir, "tgtadm"), script);
  chmodSync(join(dir, "tgtadm"), 0o755);
}

/** Every row of every table of the server's metadata database, as text. */
function databaseDump(stateDir: string): string {
  const db = new Database(join(stateDir, "metadata.db"), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map(({ name }) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())}`).join("\n");
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  wrapperDir = mkdtempSync(join(tmpdir(), "dpl-tgtadm-wrapper-"));
  writeTgtadmWrapper(wrapperDir);
  server = await startServer({ env: { PATH: `${wrapperDir}:${process.env.PATH ?? ""}` }, extraArgs: ["--max-jobs", "1"] });
  client = clientFor(server);
  for (const id of Object.values(volumes)) await client.createVolume(id, { poolId: server.poolId, sizeBytes: 16 * MiB });
});
afterAll(async () => {
  await client.close();
  await server.stop();
  rmSync(wrapperDir, { recursive: true, force: true });
});

describe("CHAP secrets on tgtadm's command line", () => {
  it("a failed account creation shows the secret in no error, reply, log line or database row", async () => {
    const chap = { username: "trip-user", secret: tripSecret };
    // Through the provider's client (what Pulumi prints): the reply waits for the job and fails.
    const error = await client.assignIscsi(volumes.trip, { initiators: [initiator], chap }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DplError);
    const failure = error as DplError;
    // The command is described (so a leak would show), with the secret replaced.
    expect(failure.message).toContain("--user trip-user --password <redacted>");

    // The historical flow: 202 with an event, then the event's reply carries the failure.
    const accepted = await dplRequest(server, "PUT", `/v1/dpl_volume/${volumes.trip}/`, {
      body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [initiator], authentication: { chap } } } },
    });
    expect(accepted.status).toBe(202);
    const eventId = AcceptedReply.parse(accepted.body).metadata.event_uuid;
    const event = await finishedEvent(volumes.trip, eventId);
    expect(EventReply.parse(event.body).event.error_message).toContain("--password <redacted>");

    const volume = await dplRequest(server, "GET", `/v1/dpl_volume/${volumes.trip}/`);
    expect(volume.status).toBe(200);
    // Both assigns were undone: no export, so no account or target was left half-made.
    expect(volume.text).not.toContain("trip-user");

    const dump = databaseDump(server.stateDir);
    expect(dump).toContain("<redacted>");
    for (const [where, text] of Object.entries({
      error: `${failure.message}\n${String(failure.stack)}\n${JSON.stringify(failure)}`,
      event: event.text, volume: volume.text, log: server.log(), database: dump,
    })) {
      expect(text.includes(tripSecret), `the CHAP secret appears in the ${where}`).toBe(false);
    }
  });
});

async function finishedEvent(volumeId: string, eventId: string): Promise<{ body: unknown; text: string }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await dplRequest(server, "GET", `/v1/dpl_volume/${volumeId}/?event_uuid=${encodeURIComponent(eventId)}`);
    if (EventReply.parse(reply.body).event.finished !== null) return reply;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`event ${eventId} did not finish within 10 s`);
}

describe("CHAP user names shared by exports", () => {
  const first = { username: "shared-user", secret: "First-Secret-01" };

  beforeAll(async () => {
    await client.assignIscsi(volumes.first, { initiators: [initiator], chap: first });
  });

  async function assign(volumeId: string, authentication: object): Promise<{ status: number; body: unknown; text: string }> {
    return dplRequest(server, "PUT", `/v1/dpl_volume/${volumeId}/`, {
      body: { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": { permissions: [initiator], authentication } } },
    });
  }

  it("refuses the same user name with another secret, naming the field; the first export keeps its secret", async () => {
    const refused = await assign(volumes.second, { chap: { username: first.username, secret: "Other-Secret-02" } });
    expect(refused.status).toBe(409);
    const { error } = ErrorBody.parse(refused.body);
    expect(error.code).toBe("CONFLICT");
    expect(error.field).toBe("exports.Network/iSCSI.authentication.chap.username");
    expect(error.message).toContain(volumes.first);
    expect(refused.text).not.toContain("Other-Secret-02");
    expect((await dplRequest(server, "GET", `/v1/dpl_volume/${volumes.second}/`)).text).not.toContain(first.username);

    const { connections } = await client.assignIscsi(volumes.first, { initiators: [initiator] });
    const lun = { portal: connections[0]?.portal ?? "", targetIqn: connections[0]?.targetIqn ?? "", lun: connections[0]?.lun ?? 1, initiator };
    expect((await runQemuIo({ ...lun, chap: first }, "read 0 64k")).ok, "the first export's own secret still logs in").toBe(true);
    expect((await runQemuIo({ ...lun, chap: { ...first, secret: "Other-Secret-02" } }, "read 0 64k")).ok).toBe(false);
  });

  it("refuses the user name in the other direction, and one user for both directions", async () => {
    const asMutual = await assign(volumes.third, { chap: { username: "third-user", secret: "Third-Secret-03" }, mutual_chap: first });
    expect(asMutual.status).toBe(409);
    expect(ErrorBody.parse(asMutual.body).error.field).toBe("exports.Network/iSCSI.authentication.mutual_chap.username");

    const both = await assign(volumes.third, { chap: { username: "both-user", secret: "Both-Secret-004" }, mutual_chap: { username: "both-user", secret: "Both-Secret-005" } });
    expect(both.status).toBe(409);
    expect(ErrorBody.parse(both.body).error.field).toBe("exports.Network/iSCSI.authentication.mutual_chap.username");
  });

  it("allows the same user name with the same secret and direction", async () => {
    const { connections } = await client.assignIscsi(volumes.second, { initiators: [initiator], chap: first });
    const c = connections[0];
    if (c === undefined) throw new Error("no connection");
    expect((await runQemuIo({ portal: c.portal, targetIqn: c.targetIqn, lun: c.lun, initiator, chap: first }, "read 0 64k")).ok).toBe(true);
  });
});

describe("a pool's image library", () => {
  it("counts as busy: delete without force is refused and keeps the exported image file", async () => {
    const poolId = "c1600000000000000000000000000010";
    const volumeId = "c1600000000000000000000000000011";
    const imageId = "c1600000000000000000000000000012";
    await client.createPool(poolId, { name: "library", devices: [{ type: "image_file", size: 512 * MiB }] });
    await client.createVolume(volumeId, { poolId, sizeBytes: 16 * MiB });
    const image = await client.exportImage(imageId, { sourceVolume: volumeId, format: "raw" });
    await client.deleteVolume(volumeId);
    expect(existsSync(image.metadata.path)).toBe(true);

    const refused = await client.deletePool(poolId).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(DplError);
    expect((refused as DplError).code).toBe("BUSY");
    expect((refused as DplError).message).toMatch(new RegExp(`1 image files \\(${imageId}\\)`));
    expect(existsSync(image.metadata.path), "the image file survives the refused delete").toBe(true);
    expect((await client.listImages()).images.map((i) => i.id)).toContain(imageId);

    await client.deleteImage(imageId);
    await client.deletePool(poolId);
    expect(existsSync(image.metadata.path)).toBe(false);
  });
});

describe("files planted in an image directory", () => {
  it("a symlink named like an image is neither listed, probed nor served", async () => {
    const planted = "c1600000000000000000000000000020";
    const library = join(server.stateDir, "volume-images");
    const target = join(server.stateDir, "admin-password");
    symlinkSync(target, join(library, `${planted}.raw`));
    try {
      expect((await client.listImages()).images.map((image) => image.id)).not.toContain(planted);
      expect((await dplRequest(server, "GET", `/v1/dpl_image/${planted}/`)).status).toBe(404);
      const content = await dplRequest(server, "GET", `/v1/dpl_image/${planted}/content`);
      expect(content.status).toBe(404);
      expect(content.text).not.toContain(server.password);
    } finally {
      rmSync(join(library, `${planted}.raw`), { force: true });
    }
  });
});

describe("event retention", () => {
  it("deletes finished events once they are older than --event-retention", async () => {
    const short = await startServer({ embeddedPoolSize: "512MiB", extraArgs: ["--event-retention", "2s"] });
    const shortClient = clientFor(short);
    try {
      const eventId = await shortClient.startPoolOperation(short.poolId, "scrub");
      expect((await shortClient.poolEvent(short.poolId, eventId, 30)).completionStatus).toBe("Complete");
      let gone = false;
      for (let attempt = 0; attempt < 100 && !gone; attempt++) {
        gone = await shortClient.poolEvent(short.poolId, eventId).then(() => false, (e: unknown) => e instanceof NotFoundError);
        if (!gone) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(gone, "the finished event is deleted within 10 s of a 2 s retention").toBe(true);
      expect(short.log()).toMatch(/pruned \d+ events finished more than 2 s ago/);
    } finally {
      await shortClient.close();
      await short.stop();
    }
  });
});

describe("the job cap", () => {
  it("refuses a job beyond --max-jobs with 503 OVERLOADED and Retry-After, and takes it once the running one ends", async () => {
    const slow = client.assignIscsi(volumes.slow, { initiators: [initiator], chap: { username: "slow-user", secret: "Slow-Secret-006" } });
    // A scrub asked for while the slow assign runs is one job too many.
    const overloaded = async (): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> =>
      dplRequest(server, "PUT", `/v1/dpl_pool/${server.poolId}/`, { body: { metadata: { pool_operation: "scrub" } } });
    let refused = await overloaded();
    for (let attempt = 0; attempt < 100 && refused.status !== 503; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      refused = await overloaded();
    }
    expect(refused.status).toBe(503);
    expect(ErrorBody.parse(refused.body).error.code).toBe("OVERLOADED");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);

    writeFileSync(join(wrapperDir, "release"), "");
    await slow;
    expect((await client.runPoolOperation(server.poolId, "scrub")).metadata.pool_uuid).toBe(server.poolId);
  });
});

describe("what a URL import may reach", () => {
  const imported = "c1600000000000000000000000000006";
  it("refuses loopback, link-local (cloud metadata) and private hosts with one neutral error naming image.url", async () => {
    const texts = new Set<string>();
    for (const host of ["127.0.0.1", "[::1]", "2130706433", "169.254.169.254", "10.0.0.1", "localhost"]) {
      // The DPL server itself is one thing an unchecked import would read.
      const url = `http://${host}:${new URL(server.url).port}/v1/dpl_system/`;
      const res = await dplRequest(server, "PUT", `/v1/dpl_volume/${imported}/`, {
        body: { metadata: { pool_uuid: server.poolId }, image: { url, format: "raw" } },
      });
      expect(res.status, host).toBe(400);
      const { error } = ErrorBody.parse(res.body);
      expect(error.field, host).toBe("image.url");
      texts.add(error.message.replace(/could not fetch \S+:/, ""));
    }
    expect([...texts]).toEqual([" the host may not be reached from this server, did not answer, or did not serve an image there"]);
    expect((await dplRequest(server, "GET", `/v1/dpl_volume/${imported}/`)).status).toBe(404);
  });
});
