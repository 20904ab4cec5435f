import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { VolumeRecord } from "../../core/records";
import { SqliteMetadataStore } from "./metadata-db";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dpl-metadata-"));
  path = join(dir, "metadata.db");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const volume: VolumeRecord = {
  id: "a".repeat(32), poolId: "p".repeat(32), name: "vol", description: null, sizeBytes: 1024, thin: true,
  compression: "none", cacheMode: "writeback", maximumSnapshot: 1024, snapshotQuota: 0, state: "available",
  originId: null, imageSource: null, volumeGroupId: null, ctime: 1, mtime: 2, createEventId: null,
};

/** Back to a schema-8 pools table (before backends). */
const UNDO_SCHEMA_9 = "ALTER TABLE pools DROP COLUMN backend; ALTER TABLE pools DROP COLUMN ceph";

describe("SqliteMetadataStore", () => {
  it("creates a 0600 WAL database with synchronous=FULL at the latest schema version", () => {
    new SqliteMetadataStore(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    // 2: pool_maintenance (last scrub / dedupe results); 3: indexes for scale; 4: maintenance schedules;
    // 5: the image a volume was written from; 6: maintenance results in core's terms; 7: replications;
    // 8: replications of several volumes (a group's members).
    expect(db.pragma("user_version", { simple: true })).toBe(9);
    db.close();
  });

  it("migrates maintenance results stored as wire replies (schema 5) to core's records", () => {
    const store = new SqliteMetadataStore(path);
    const poolId = "b".repeat(32);
    store.insertPool({ id: poolId, name: "p", description: null, raid: "single", compression: "none", maxOversubscription: null, state: "available", ctime: 1, devices: [], backend: "btrfs", ceph: null });
    store.close();
    const db = new Database(path);
    const insert = db.prepare("INSERT OR REPLACE INTO pool_maintenance (pool_id, operation, result) VALUES (?, ?, ?)");
    insert.run(poolId, "scrub", JSON.stringify({ started: 1, finished: 2, bytes_scrubbed: 3, errors_found: 4, csum_errors: 5, read_errors: 6, corrected_errors: 7, uncorrectable_errors: 8 }));
    insert.run(poolId, "dedupe", JSON.stringify({ started: 1, finished: 2, used_bytes_before: 30, used_bytes_after: 20, bytes_saved: 10, files_scanned: 9 }));
    // Back to what schema 5 had: later migrations run again on the next open.
    db.exec("DROP TABLE replications; DROP TABLE replication_volumes");
    db.exec(UNDO_SCHEMA_9);
    db.pragma("user_version = 5");
    db.close();
    const migrated = new SqliteMetadataStore(path);
    expect(migrated.getMaintenanceResult(poolId, "scrub")).toEqual({
      started: 1, finished: 2, bytesScrubbed: 3, errorsFound: 4, csumErrors: 5, readErrors: 6, correctedErrors: 7, uncorrectableErrors: 8,
    });
    expect(migrated.getMaintenanceResult(poolId, "dedupe")).toEqual({
      started: 1, finished: 2, usedBytesBefore: 30, usedBytesAfter: 20, bytesSaved: 10, filesScanned: 9,
    });
    migrated.close();
  });

  it("migrates a schema-7 replication of one volume to a relationship with a volumes list, found by its volume", () => {
    new SqliteMetadataStore(path).close();
    const db = new Database(path);
    db.exec("DROP TABLE replications; DROP TABLE replication_volumes");
    db.exec("CREATE TABLE replications (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL UNIQUE, record TEXT NOT NULL)");
    db.exec(UNDO_SCHEMA_9);
    const [id, volumeId, base, next] = ["1", "2", "3", "4"].map((c) => c.repeat(32)) as [string, string, string, string];
    const legacy = {
      id, name: "r", description: null, role: "source", volumeId, poolId: "p".repeat(32), peer: null, peerPoolId: null, rpoSeconds: 60,
      rateLimitBytesPerSecond: null, promoted: false, lastSnapshotId: base, lastSnapshotTime: 10, lastSyncFinished: 11, lastSyncBytes: 5,
      totalBytes: 9, lastError: null, pending: { snapshotId: next, parentSnapshotId: base, snapshotTime: 20, bytes: 7, sha256: "f".repeat(64) }, ctime: 1,
    };
    db.prepare("INSERT INTO replications (id, volume_id, record) VALUES (?, ?, ?)").run(id, volumeId, JSON.stringify(legacy));
    db.pragma("user_version = 7");
    db.close();
    const migrated = new SqliteMetadataStore(path);
    const record = migrated.findReplicationOfVolume(volumeId);
    expect(record).toMatchObject({ id, volumeGroupId: null, lastSnapshotTime: 10, pendingSnapshotTime: 20, rpoSeconds: 60 });
    expect(record?.volumes).toEqual([{ volumeId, lastSnapshotId: base, pending: { snapshotId: next, parentSnapshotId: base, bytes: 7, sha256: "f".repeat(64) } }]);
    expect(record).not.toHaveProperty("volumeId");
    migrated.deleteReplication(id);
    expect(migrated.findReplicationOfVolume(volumeId)).toBeUndefined();
    migrated.close();
  });

  it("keeps an rbd pool's Ceph connection; pools from before backends (schema 8) are btrfs", () => {
    const store = new SqliteMetadataStore(path);
    const ceph = { configPath: "/etc/ceph/ceph.conf", keyringPath: "/etc/ceph/client.dpl.keyring", clientId: "dpl", rbdPool: "dpl" };
    const base = { name: "p", description: null, raid: "single" as const, compression: "none", maxOversubscription: null, state: "available" as const, ctime: 1, devices: [] };
    store.insertPool({ ...base, id: "c".repeat(32), backend: "rbd", ceph });
    store.close();
    const db = new Database(path);
    db.exec(UNDO_SCHEMA_9);
    db.prepare("INSERT INTO pools (id, name, raid, compression, state, ctime) VALUES (?, 'old', 'single', 'none', 'available', 1)").run("d".repeat(32));
    db.pragma("user_version = 8");
    db.close();
    const migrated = new SqliteMetadataStore(path);
    expect(migrated.getPool("d".repeat(32))).toMatchObject({ backend: "btrfs", ceph: null });
    // Dropping the columns lost the rbd pool's backend: what schema 8 could hold is what is left.
    expect(migrated.getPool("c".repeat(32))).toMatchObject({ backend: "btrfs", ceph: null });
    migrated.insertPool({ ...base, id: "e".repeat(32), name: "q", backend: "rbd", ceph });
    expect(migrated.getPool("e".repeat(32))).toMatchObject({ backend: "rbd", ceph });
    migrated.close();
  });

  it("keeps the image a volume was written from, through updates", () => {
    const store = new SqliteMetadataStore(path);
    const fromImage = { ...volume, imageSource: { url: "https://images.example.org/base.qcow2", format: "qcow2" as const } };
    store.insertVolume(fromImage);
    store.updateVolume({ ...fromImage, imageSource: null, name: "renamed" });
    expect(store.getVolume(volume.id)).toMatchObject({ name: "renamed", imageSource: fromImage.imageSource });
    store.close();
  });

  it("round-trips volumes and exports with CHAP and initiators; reopening keeps them", () => {
    const store = new SqliteMetadataStore(path);
    store.insertVolume(volume);
    store.putExport({
      volumeId: volume.id, tid: store.nextFreeTid(), iqn: "iqn.x:a", lun: 1, logicalUnitName: "lu",
      initiators: ["iqn.b", "iqn.a"], chap: { username: "u", secret: "s".repeat(12) }, mutualChap: null, ctime: 3,
    });
    expect(store.nextFreeTid()).toBe(2);
    store.close();
    const reopened = new SqliteMetadataStore(path);
    expect(reopened.getVolume(volume.id)).toEqual(volume);
    expect(reopened.getExport(volume.id)).toMatchObject({ tid: 1, initiators: ["iqn.b", "iqn.a"], chap: { username: "u", secret: "s".repeat(12) }, mutualChap: null });
    reopened.deleteExport(volume.id);
    expect(reopened.listExports()).toEqual([]);
    reopened.close();
  });

  it("sums a pool's volumes without reading other pools' (ids in creation order, sizes, compressed count)", () => {
    const store = new SqliteMetadataStore(path);
    expect(store.poolVolumeIds(volume.poolId)).toEqual([]);
    expect(store.poolVolumeTotals(volume.poolId)).toEqual({ provisionedBytes: 0, compressedVolumeCount: 0 });
    store.insertVolume(volume);
    store.insertVolume({ ...volume, id: "b".repeat(32), sizeBytes: 4096, compression: "zstd", ctime: 0 });
    store.insertVolume({ ...volume, id: "c".repeat(32), poolId: "q".repeat(32), sizeBytes: 1 << 30, compression: "lzo" });
    expect(store.poolVolumeIds(volume.poolId)).toEqual(["b".repeat(32), volume.id]);
    expect(store.poolVolumeTotals(volume.poolId)).toEqual({ provisionedBytes: 5120, compressedVolumeCount: 1 });
    expect(store.listVolumeNames()).toEqual([
      { id: "b".repeat(32), name: "vol" }, { id: volume.id, name: "vol" }, { id: "c".repeat(32), name: "vol" },
    ]);
    store.close();
  });

  it("rolls a failed transaction back", () => {
    const store = new SqliteMetadataStore(path);
    expect(() => {
      store.transaction(() => {
        store.insertVolume(volume);
        store.insertVolume(volume); // duplicate id
      });
    }).toThrow();
    expect(store.getVolume(volume.id)).toBeUndefined();
    store.close();
  });

  it("turns events left Processing into Error with the given message", () => {
    const store = new SqliteMetadataStore(path);
    const base = { objectType: "volume" as const, objectId: volume.id, operation: "create", percent: 0, errorCode: null, errorMessage: null, started: 1, finished: null };
    store.insertEvent({ ...base, id: "e1", status: "Processing" });
    store.insertEvent({ ...base, id: "e2", status: "Complete" });
    expect(store.failProcessingEvents("interrupted by server restart", 5)).toBe(1);
    expect(store.getEvent("e1")).toMatchObject({ status: "Error", errorCode: "INTERNAL", errorMessage: "interrupted by server restart", finished: 5 });
    expect(store.getEvent("e2")?.status).toBe("Complete");
    expect(store.findLatestEvent(volume.id, "create")?.id).toMatch(/^e[12]$/);
    store.close();
  });

  it("prunes finished events older than the cut-off, keeping running ones and a volume's create event", () => {
    const store = new SqliteMetadataStore(path);
    store.insertVolume({ ...volume, createEventId: "create-event" });
    const base = { objectType: "volume" as const, objectId: volume.id, operation: "extend", percent: 100, errorCode: null, errorMessage: null, started: 1 };
    store.insertEvent({ ...base, id: "old", status: "Complete", finished: 10 });
    store.insertEvent({ ...base, id: "old-error", status: "Error", finished: 20 });
    store.insertEvent({ ...base, id: "new", status: "Complete", finished: 1_000 });
    store.insertEvent({ ...base, id: "running", status: "Processing", percent: 5, finished: null });
    store.insertEvent({ ...base, id: "create-event", operation: "create", status: "Complete", finished: 10 });
    expect(store.pruneFinishedEvents(500)).toBe(2);
    expect(["old", "old-error", "new", "running", "create-event"].map((id) => store.getEvent(id) !== undefined)).toEqual([false, false, true, true, true]);
    store.close();
  });
});
