/**
 * SQLite metadata store: WAL journal with synchronous=FULL, so an operation the server has
 * acknowledged survives a crash or power loss. Schema versions are applied in order and recorded
 * in `PRAGMA user_version`. The file holds CHAP secrets, hence mode 0600.
 */
import Database from "better-sqlite3";
import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import { ImageSource, type CacheMode, type CompletionStatus, type ErrorCode, type RaidLevel } from "@prophetstor/dpl-provider/wire";
import type { MaintenanceScheduleEntry, MetadataStore, PoolVolumeTotals, ScheduledMaintenance } from "../../core/metadata-store";
import type { CephConnection, PoolDeviceRecord } from "../../core/ports";
import type {
  EventObjectType, EventRecord, ExportRecord, GroupSnapshotRecord, ObjectState, PoolRecord,
  MaintenanceResults, PoolSettingsChange, ReplicationRecord, SnapshotRecord, TargetRecord, VolumeGroupRecord, VolumeRecord,
} from "../../core/records";
import { migrations } from "./metadata-schema";

type Row = Record<string, unknown>;

function str(row: Row, key: string): string {
  const v = row[key];
  if (typeof v !== "string") throw new Error(`metadata row: ${key} is not text`);
  return v;
}
function optStr(row: Row, key: string): string | null {
  const v = row[key];
  return typeof v === "string" ? v : null;
}
function num(row: Row, key: string): number {
  const v = row[key];
  if (typeof v !== "number") throw new Error(`metadata row: ${key} is not a number`);
  return v;
}
function optNum(row: Row, key: string): number | null {
  const v = row[key];
  return typeof v === "number" ? v : null;
}

/** The stored image source; a value this version cannot read counts as unknown. */
function imageSourceOf(text: string | null): ImageSource | null {
  if (text === null) return null;
  const parsed = ImageSource.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}

export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
  }

  private migrate(): void {
    const current = Number(this.db.pragma("user_version", { simple: true }));
    for (let version = current; version < migrations.length; version++) {
      const sql = migrations[version] ?? "";
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.db.prepare(sql).all(...params) as Row[];
  }
  private one(sql: string, ...params: unknown[]): Row | undefined {
    return this.db.prepare(sql).get(...params) as Row | undefined;
  }
  private run(sql: string, ...params: unknown[]): void {
    this.db.prepare(sql).run(...params);
  }

  // ---------------------------------------------------------------- pools

  private poolFromRow(row: Row): PoolRecord {
    const id = str(row, "id");
    const devices: PoolDeviceRecord[] = this.all("SELECT * FROM pool_devices WHERE pool_id = ? ORDER BY position", id).map((d) => ({
      deviceId: str(d, "device_id"),
      type: str(d, "type") === "block_device" ? "block_device" : "image_file",
      path: str(d, "path"),
      size: num(d, "size"),
    }));
    return {
      id,
      name: str(row, "name"),
      description: optStr(row, "description"),
      raid: str(row, "raid") as RaidLevel,
      compression: str(row, "compression"),
      maxOversubscription: optNum(row, "max_oversubscription"),
      state: str(row, "state") as ObjectState,
      ctime: num(row, "ctime"),
      devices,
      backend: str(row, "backend") === "rbd" ? "rbd" : "btrfs",
      // Written by insertPool only, from the same record type.
      ceph: row.ceph == null ? null : (JSON.parse(str(row, "ceph")) as CephConnection),
    };
  }
  listPools(): PoolRecord[] {
    return this.all("SELECT * FROM pools ORDER BY ctime, id").map((r) => this.poolFromRow(r));
  }
  getPool(id: string): PoolRecord | undefined {
    const row = this.one("SELECT * FROM pools WHERE id = ?", id);
    return row === undefined ? undefined : this.poolFromRow(row);
  }
  insertPool(pool: PoolRecord): void {
    this.transaction(() => {
      this.run(
        "INSERT INTO pools (id, name, description, raid, compression, max_oversubscription, state, ctime, backend, ceph) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        pool.id, pool.name, pool.description, pool.raid, pool.compression, pool.maxOversubscription, pool.state, pool.ctime,
        pool.backend, pool.ceph === null ? null : JSON.stringify(pool.ceph),
      );
      this.setPoolDevices(pool.id, pool.devices);
    });
  }
  setPoolDevices(poolId: string, devices: PoolDeviceRecord[]): void {
    this.transaction(() => {
      this.run("DELETE FROM pool_devices WHERE pool_id = ?", poolId);
      devices.forEach((d, position) => {
        this.run("INSERT INTO pool_devices (pool_id, position, device_id, type, path, size) VALUES (?, ?, ?, ?, ?, ?)",
          poolId, position, d.deviceId, d.type, d.path, d.size);
      });
    });
  }
  setPoolState(id: string, state: ObjectState): void {
    this.run("UPDATE pools SET state = ? WHERE id = ?", state, id);
  }
  setPoolSettings(id: string, settings: PoolSettingsChange): void {
    const columns = { name: "name", description: "description", compression: "compression", maxOversubscription: "max_oversubscription", raid: "raid" } as const;
    const given = (Object.keys(columns) as (keyof typeof columns)[]).filter((key) => settings[key] !== undefined);
    if (given.length === 0) return;
    this.run(`UPDATE pools SET ${given.map((key) => `${columns[key]} = ?`).join(", ")} WHERE id = ?`, ...given.map((key) => settings[key] ?? null), id);
  }
  deletePool(id: string): void {
    this.run("DELETE FROM pools WHERE id = ?", id);
  }

  // ---------------------------------------------------------------- volumes

  private volumeFromRow(row: Row): VolumeRecord {
    return {
      id: str(row, "id"),
      poolId: str(row, "pool_id"),
      name: str(row, "name"),
      description: optStr(row, "description"),
      sizeBytes: num(row, "size"),
      thin: num(row, "thin") !== 0,
      compression: str(row, "compression"),
      cacheMode: str(row, "cache_mode") as CacheMode,
      maximumSnapshot: num(row, "maximum_snapshot"),
      snapshotQuota: num(row, "snapshot_quota"),
      state: str(row, "state") as ObjectState,
      originId: optStr(row, "origin_id"),
      imageSource: imageSourceOf(optStr(row, "image_source")),
      volumeGroupId: optStr(row, "volume_group_id"),
      ctime: num(row, "ctime"),
      mtime: num(row, "mtime"),
      createEventId: optStr(row, "create_event_id"),
    };
  }
  listVolumes(poolId?: string): VolumeRecord[] {
    const rows = poolId === undefined
      ? this.all("SELECT * FROM volumes ORDER BY ctime, id")
      : this.all("SELECT * FROM volumes WHERE pool_id = ? ORDER BY ctime, id", poolId);
    return rows.map((r) => this.volumeFromRow(r));
  }
  listVolumeNames(): Array<{ id: string; name: string }> {
    return this.db.prepare("SELECT id, name FROM volumes ORDER BY ctime, id").all() as Array<{ id: string; name: string }>;
  }
  poolVolumeIds(poolId: string): string[] {
    return this.db.prepare("SELECT id FROM volumes WHERE pool_id = ? ORDER BY ctime, id").pluck().all(poolId) as string[];
  }
  poolVolumeTotals(poolId: string): PoolVolumeTotals {
    const totals = this.one(
      "SELECT COALESCE(SUM(size), 0) AS provisioned, COUNT(*) FILTER (WHERE compression <> 'none') AS compressed FROM volumes WHERE pool_id = ?",
      poolId);
    return {
      provisionedBytes: totals === undefined ? 0 : num(totals, "provisioned"),
      compressedVolumeCount: totals === undefined ? 0 : num(totals, "compressed"),
    };
  }
  getVolume(id: string): VolumeRecord | undefined {
    const row = this.one("SELECT * FROM volumes WHERE id = ?", id);
    return row === undefined ? undefined : this.volumeFromRow(row);
  }
  insertVolume(v: VolumeRecord): void {
    this.run(
      `INSERT INTO volumes (id, pool_id, name, description, size, thin, compression, cache_mode, maximum_snapshot,
        snapshot_quota, state, origin_id, volume_group_id, ctime, mtime, create_event_id, image_source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      v.id, v.poolId, v.name, v.description, v.sizeBytes, v.thin ? 1 : 0, v.compression, v.cacheMode, v.maximumSnapshot,
      v.snapshotQuota, v.state, v.originId, v.volumeGroupId, v.ctime, v.mtime, v.createEventId,
      v.imageSource === null ? null : JSON.stringify(v.imageSource),
    );
  }
  updateVolume(v: VolumeRecord): void {
    this.run(
      `UPDATE volumes SET pool_id = ?, name = ?, description = ?, size = ?, thin = ?, compression = ?, cache_mode = ?,
        maximum_snapshot = ?, snapshot_quota = ?, state = ?, origin_id = ?, volume_group_id = ?, mtime = ?, create_event_id = ?
       WHERE id = ?`,
      v.poolId, v.name, v.description, v.sizeBytes, v.thin ? 1 : 0, v.compression, v.cacheMode, v.maximumSnapshot,
      v.snapshotQuota, v.state, v.originId, v.volumeGroupId, v.mtime, v.createEventId, v.id,
    );
  }
  deleteVolume(id: string): void {
    this.run("DELETE FROM volumes WHERE id = ?", id);
  }

  // ---------------------------------------------------------------- snapshots

  private snapshotFromRow(row: Row): SnapshotRecord {
    return {
      id: str(row, "id"),
      volumeId: str(row, "volume_id"),
      poolId: str(row, "pool_id"),
      name: str(row, "name"),
      description: optStr(row, "description"),
      sizeBytes: num(row, "size"),
      volumeGroupId: optStr(row, "volume_group_id"),
      groupSnapshotId: optStr(row, "group_snapshot_id"),
      state: str(row, "state") as ObjectState,
      ctime: num(row, "ctime"),
    };
  }
  listSnapshots(filter: { volumeId?: string; poolId?: string } = {}): SnapshotRecord[] {
    let rows: Row[];
    if (filter.volumeId !== undefined) rows = this.all("SELECT * FROM snapshots WHERE volume_id = ? ORDER BY ctime, id", filter.volumeId);
    else if (filter.poolId !== undefined) rows = this.all("SELECT * FROM snapshots WHERE pool_id = ? ORDER BY ctime, id", filter.poolId);
    else rows = this.all("SELECT * FROM snapshots ORDER BY ctime, id");
    return rows.map((r) => this.snapshotFromRow(r));
  }
  getSnapshot(id: string): SnapshotRecord | undefined {
    const row = this.one("SELECT * FROM snapshots WHERE id = ?", id);
    return row === undefined ? undefined : this.snapshotFromRow(row);
  }
  insertSnapshot(s: SnapshotRecord): void {
    this.run(
      `INSERT INTO snapshots (id, volume_id, pool_id, name, description, size, volume_group_id, group_snapshot_id, state, ctime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.id, s.volumeId, s.poolId, s.name, s.description, s.sizeBytes, s.volumeGroupId, s.groupSnapshotId, s.state, s.ctime,
    );
  }
  setSnapshotState(id: string, state: ObjectState): void {
    this.run("UPDATE snapshots SET state = ? WHERE id = ?", state, id);
  }
  deleteSnapshot(id: string): void {
    this.run("DELETE FROM snapshots WHERE id = ?", id);
  }

  // ---------------------------------------------------------------- exports

  private exportFromRow(row: Row): ExportRecord {
    const volumeId = str(row, "volume_id");
    const chapUser = optStr(row, "chap_username");
    const chapSecret = optStr(row, "chap_secret");
    const mutualUser = optStr(row, "mutual_username");
    const mutualSecret = optStr(row, "mutual_secret");
    return {
      volumeId,
      tid: num(row, "tid"),
      iqn: str(row, "iqn"),
      lun: num(row, "lun"),
      logicalUnitName: str(row, "logical_unit_name"),
      initiators: this.all("SELECT initiator FROM export_initiators WHERE volume_id = ? ORDER BY rowid", volumeId).map((r) => str(r, "initiator")),
      chap: chapUser !== null && chapSecret !== null ? { username: chapUser, secret: chapSecret } : null,
      mutualChap: mutualUser !== null && mutualSecret !== null ? { username: mutualUser, secret: mutualSecret } : null,
      ctime: num(row, "ctime"),
    };
  }
  listExports(): ExportRecord[] {
    return this.all("SELECT * FROM exports ORDER BY tid").map((r) => this.exportFromRow(r));
  }
  getExport(volumeId: string): ExportRecord | undefined {
    const row = this.one("SELECT * FROM exports WHERE volume_id = ?", volumeId);
    return row === undefined ? undefined : this.exportFromRow(row);
  }
  putExport(e: ExportRecord): void {
    this.transaction(() => {
      this.run(
        `INSERT INTO exports (volume_id, tid, iqn, lun, logical_unit_name, chap_username, chap_secret, mutual_username, mutual_secret, ctime)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(volume_id) DO UPDATE SET tid = excluded.tid, iqn = excluded.iqn, lun = excluded.lun,
           logical_unit_name = excluded.logical_unit_name, chap_username = excluded.chap_username,
           chap_secret = excluded.chap_secret, mutual_username = excluded.mutual_username, mutual_secret = excluded.mutual_secret`,
        e.volumeId, e.tid, e.iqn, e.lun, e.logicalUnitName, e.chap?.username ?? null, e.chap?.secret ?? null,
        e.mutualChap?.username ?? null, e.mutualChap?.secret ?? null, e.ctime,
      );
      this.run("DELETE FROM export_initiators WHERE volume_id = ?", e.volumeId);
      for (const initiator of e.initiators) {
        this.run("INSERT INTO export_initiators (volume_id, initiator) VALUES (?, ?)", e.volumeId, initiator);
      }
    });
  }
  deleteExport(volumeId: string): void {
    this.run("DELETE FROM exports WHERE volume_id = ?", volumeId);
  }
  nextFreeTid(): number {
    const used = new Set(this.all("SELECT tid FROM exports").map((r) => num(r, "tid")));
    let tid = 1;
    while (used.has(tid)) tid++;
    return tid;
  }

  // ---------------------------------------------------------------- targets

  private targetFromRow(row: Row): TargetRecord {
    return {
      id: str(row, "id"),
      protocol: str(row, "protocol") === "fc" ? "fc" : "iscsi",
      name: str(row, "name"),
      description: optStr(row, "description"),
      address: str(row, "address"),
      ctime: num(row, "ctime"),
    };
  }
  listTargets(): TargetRecord[] {
    return this.all("SELECT * FROM targets ORDER BY ctime, id").map((r) => this.targetFromRow(r));
  }
  getTarget(id: string): TargetRecord | undefined {
    const row = this.one("SELECT * FROM targets WHERE id = ?", id);
    return row === undefined ? undefined : this.targetFromRow(row);
  }
  insertTarget(t: TargetRecord): void {
    this.run("INSERT INTO targets (id, protocol, name, description, address, ctime) VALUES (?, ?, ?, ?, ?, ?)",
      t.id, t.protocol, t.name, t.description, t.address, t.ctime);
  }
  deleteTarget(id: string): void {
    this.run("DELETE FROM targets WHERE id = ?", id);
  }

  // ---------------------------------------------------------------- volume groups

  private groupFromRow(row: Row): VolumeGroupRecord {
    return {
      id: str(row, "id"),
      name: optStr(row, "name"),
      description: optStr(row, "description"),
      maximumSnapshot: num(row, "maximum_snapshot"),
      snapshotRotation: num(row, "snapshot_rotation") !== 0,
      ctime: num(row, "ctime"),
    };
  }
  listVolumeGroups(): VolumeGroupRecord[] {
    return this.all("SELECT * FROM volume_groups ORDER BY ctime, id").map((r) => this.groupFromRow(r));
  }
  getVolumeGroup(id: string): VolumeGroupRecord | undefined {
    const row = this.one("SELECT * FROM volume_groups WHERE id = ?", id);
    return row === undefined ? undefined : this.groupFromRow(row);
  }
  insertVolumeGroup(g: VolumeGroupRecord): void {
    this.run("INSERT INTO volume_groups (id, name, description, maximum_snapshot, snapshot_rotation, ctime) VALUES (?, ?, ?, ?, ?, ?)",
      g.id, g.name, g.description, g.maximumSnapshot, g.snapshotRotation ? 1 : 0, g.ctime);
  }
  deleteVolumeGroup(id: string): void {
    this.run("DELETE FROM volume_groups WHERE id = ?", id);
  }

  private groupSnapshotFromRow(row: Row): GroupSnapshotRecord {
    const members = JSON.parse(str(row, "members")) as Record<string, string>;
    return {
      id: str(row, "id"),
      groupId: str(row, "group_id"),
      name: optStr(row, "name"),
      description: optStr(row, "description"),
      members,
      ctime: num(row, "ctime"),
    };
  }
  listGroupSnapshots(groupId: string): GroupSnapshotRecord[] {
    return this.all("SELECT * FROM group_snapshots WHERE group_id = ? ORDER BY ctime, id", groupId).map((r) => this.groupSnapshotFromRow(r));
  }
  getGroupSnapshot(id: string): GroupSnapshotRecord | undefined {
    const row = this.one("SELECT * FROM group_snapshots WHERE id = ?", id);
    return row === undefined ? undefined : this.groupSnapshotFromRow(row);
  }
  insertGroupSnapshot(s: GroupSnapshotRecord): void {
    this.run("INSERT INTO group_snapshots (id, group_id, name, description, members, ctime) VALUES (?, ?, ?, ?, ?, ?)",
      s.id, s.groupId, s.name, s.description, JSON.stringify(s.members), s.ctime);
  }
  deleteGroupSnapshot(id: string): void {
    this.run("DELETE FROM group_snapshots WHERE id = ?", id);
  }

  // ---------------------------------------------------------------- events

  private eventFromRow(row: Row): EventRecord {
    return {
      id: str(row, "id"),
      objectType: str(row, "object_type") as EventObjectType,
      objectId: str(row, "object_id"),
      operation: str(row, "operation"),
      status: str(row, "status") as CompletionStatus,
      percent: num(row, "percent"),
      errorCode: optStr(row, "error_code") as ErrorCode | null,
      errorMessage: optStr(row, "error_message"),
      started: num(row, "started"),
      finished: optNum(row, "finished"),
    };
  }
  insertEvent(e: EventRecord): void {
    this.run(
      `INSERT INTO events (id, object_type, object_id, operation, status, percent, error_code, error_message, started, finished)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      e.id, e.objectType, e.objectId, e.operation, e.status, e.percent, e.errorCode, e.errorMessage, e.started, e.finished,
    );
  }
  getEvent(id: string): EventRecord | undefined {
    const row = this.one("SELECT * FROM events WHERE id = ?", id);
    return row === undefined ? undefined : this.eventFromRow(row);
  }
  findLatestEvent(objectId: string, operation: string): EventRecord | undefined {
    const row = this.one("SELECT * FROM events WHERE object_id = ? AND operation = ? ORDER BY started DESC, rowid DESC LIMIT 1", objectId, operation);
    return row === undefined ? undefined : this.eventFromRow(row);
  }
  finishEvent(id: string, r: Pick<EventRecord, "status" | "errorCode" | "errorMessage" | "finished" | "percent">): void {
    this.run("UPDATE events SET status = ?, percent = ?, error_code = ?, error_message = ?, finished = ? WHERE id = ?",
      r.status, r.percent, r.errorCode, r.errorMessage, r.finished, id);
  }
  setEventPercent(id: string, percent: number): void {
    this.run("UPDATE events SET percent = ? WHERE id = ? AND status = 'Processing'", Math.max(0, Math.min(99, Math.floor(percent))), id);
  }
  putReplication(replication: ReplicationRecord): void {
    this.transaction(() => {
      this.run("INSERT OR REPLACE INTO replications (id, record) VALUES (?, ?)", replication.id, JSON.stringify(replication));
      this.run("DELETE FROM replication_volumes WHERE replication_id = ?", replication.id);
      for (const volume of replication.volumes) this.run("INSERT INTO replication_volumes (volume_id, replication_id) VALUES (?, ?)", volume.volumeId, replication.id);
    });
  }
  getReplication(id: string): ReplicationRecord | undefined {
    const row = this.one("SELECT record FROM replications WHERE id = ?", id);
    return row === undefined ? undefined : replicationOf(row);
  }
  listReplications(): ReplicationRecord[] {
    return this.all("SELECT record FROM replications ORDER BY id").map(replicationOf);
  }
  findReplicationOfVolume(volumeId: string): ReplicationRecord | undefined {
    const row = this.one("SELECT r.record FROM replications r JOIN replication_volumes v ON v.replication_id = r.id WHERE v.volume_id = ?", volumeId);
    return row === undefined ? undefined : replicationOf(row);
  }
  deleteReplication(id: string): void {
    this.transaction(() => {
      this.run("DELETE FROM replication_volumes WHERE replication_id = ?", id);
      this.run("DELETE FROM replications WHERE id = ?", id);
    });
  }
  putMaintenanceResult<O extends keyof MaintenanceResults>(poolId: string, operation: O, result: MaintenanceResults[O]): void {
    this.run("INSERT OR REPLACE INTO pool_maintenance (pool_id, operation, result) VALUES (?, ?, ?)", poolId, operation, JSON.stringify(result));
  }
  getMaintenanceResult<O extends keyof MaintenanceResults>(poolId: string, operation: O): MaintenanceResults[O] | undefined {
    const row = this.one("SELECT result FROM pool_maintenance WHERE pool_id = ? AND operation = ?", poolId, operation);
    // Written by putMaintenanceResult only, from the same record type (migration 6 renamed older rows' keys).
    return row === undefined ? undefined : (JSON.parse(str(row, "result")) as MaintenanceResults[O]);
  }
  putMaintenanceSchedule(poolId: string, operation: string, entry: MaintenanceScheduleEntry | null): void {
    if (entry === null) {
      this.run("DELETE FROM pool_maintenance_schedule WHERE pool_id = ? AND operation = ?", poolId, operation);
    } else {
      this.run("INSERT OR REPLACE INTO pool_maintenance_schedule (pool_id, operation, interval_seconds, set_at) VALUES (?, ?, ?, ?)",
        poolId, operation, entry.intervalSeconds, entry.setAt);
    }
  }
  listMaintenanceSchedules(poolId?: string): ScheduledMaintenance[] {
    const rows = poolId === undefined
      ? this.db.prepare("SELECT * FROM pool_maintenance_schedule ORDER BY pool_id, operation").all() as Row[]
      : this.db.prepare("SELECT * FROM pool_maintenance_schedule WHERE pool_id = ? ORDER BY operation").all(poolId) as Row[];
    return rows.map((row) => ({
      poolId: str(row, "pool_id"), operation: str(row, "operation"), intervalSeconds: num(row, "interval_seconds"), setAt: num(row, "set_at"),
    }));
  }
  failProcessingEvents(message: string, now: number): number {
    return this.db.prepare(
      "UPDATE events SET status = 'Error', error_code = 'INTERNAL', error_message = ?, finished = ? WHERE status = 'Processing'",
    ).run(message, now).changes;
  }
  pruneFinishedEvents(finishedBefore: number): number {
    return this.db.prepare(
      `DELETE FROM events WHERE finished IS NOT NULL AND finished < ?
       AND id NOT IN (SELECT create_event_id FROM volumes WHERE create_event_id IS NOT NULL)`,
    ).run(finishedBefore).changes;
  }
}

/** Written by putReplication only, from the same record type. */
function replicationOf(row: Row): ReplicationRecord {
  return JSON.parse(str(row, "record")) as ReplicationRecord;
}
