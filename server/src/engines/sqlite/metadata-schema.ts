/**
 * The metadata schema as an ordered list of migrations: version N of a database has run the
 * first N (recorded in `PRAGMA user_version`). Append only: a released migration never changes.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE pools (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, raid TEXT NOT NULL,
    compression TEXT NOT NULL, max_oversubscription REAL, state TEXT NOT NULL, ctime INTEGER NOT NULL
  );
  CREATE TABLE pool_devices (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    device_id TEXT NOT NULL, type TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (pool_id, position)
  );
  CREATE TABLE volumes (
    id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
    size INTEGER NOT NULL, thin INTEGER NOT NULL, compression TEXT NOT NULL, cache_mode TEXT NOT NULL,
    maximum_snapshot INTEGER NOT NULL, snapshot_quota INTEGER NOT NULL, state TEXT NOT NULL,
    origin_id TEXT, volume_group_id TEXT, ctime INTEGER NOT NULL, mtime INTEGER NOT NULL,
    create_event_id TEXT
  );
  CREATE INDEX volumes_pool ON volumes(pool_id);
  CREATE TABLE snapshots (
    id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, pool_id TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT, size INTEGER NOT NULL, volume_group_id TEXT, group_snapshot_id TEXT,
    state TEXT NOT NULL, ctime INTEGER NOT NULL
  );
  CREATE INDEX snapshots_volume ON snapshots(volume_id);
  CREATE TABLE exports (
    volume_id TEXT PRIMARY KEY, tid INTEGER NOT NULL UNIQUE, iqn TEXT NOT NULL UNIQUE, lun INTEGER NOT NULL,
    logical_unit_name TEXT NOT NULL, chap_username TEXT, chap_secret TEXT,
    mutual_username TEXT, mutual_secret TEXT, ctime INTEGER NOT NULL
  );
  CREATE TABLE export_initiators (
    volume_id TEXT NOT NULL REFERENCES exports(volume_id) ON DELETE CASCADE, initiator TEXT NOT NULL,
    PRIMARY KEY (volume_id, initiator)
  );
  CREATE TABLE targets (
    id TEXT PRIMARY KEY, protocol TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
    address TEXT NOT NULL, ctime INTEGER NOT NULL
  );
  CREATE TABLE volume_groups (
    id TEXT PRIMARY KEY, name TEXT, description TEXT, maximum_snapshot INTEGER NOT NULL,
    snapshot_rotation INTEGER NOT NULL, ctime INTEGER NOT NULL
  );
  CREATE TABLE group_snapshots (
    id TEXT PRIMARY KEY, group_id TEXT NOT NULL, name TEXT, description TEXT,
    members TEXT NOT NULL, ctime INTEGER NOT NULL
  );
  CREATE TABLE events (
    id TEXT PRIMARY KEY, object_type TEXT NOT NULL, object_id TEXT NOT NULL, operation TEXT NOT NULL,
    status TEXT NOT NULL, percent INTEGER NOT NULL, error_code TEXT, error_message TEXT,
    started INTEGER NOT NULL, finished INTEGER
  );
  CREATE INDEX events_status ON events(status);
  `,
  `
  CREATE TABLE pool_maintenance (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE, operation TEXT NOT NULL,
    result TEXT NOT NULL, PRIMARY KEY (pool_id, operation)
  );
  `,
  // 3: replies and admission checks stay fast at 10,000s of volumes: creation-ordered scans
  // without a sort (the list's covering index), and an event lookup by object without a scan.
  `
  CREATE INDEX volumes_pool_order ON volumes(pool_id, ctime, id);
  CREATE INDEX volumes_order ON volumes(ctime, id, name);
  CREATE INDEX events_object ON events(object_id, operation, started);
  `,
  // 4: the server's own scrub / dedupe schedule per pool; one row per scheduled operation.
  `
  CREATE TABLE pool_maintenance_schedule (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE, operation TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL, set_at INTEGER NOT NULL, PRIMARY KEY (pool_id, operation)
  );
  `,
  // 5: the image (JSON: path or url, format) a volume was written from, so it can be imported as that.
  `
  ALTER TABLE volumes ADD COLUMN image_source TEXT;
  `,
  // 6: maintenance results are kept in core's own terms (camelCase), not as the wire reply.
  `
  UPDATE pool_maintenance SET result = json_object(
    'started', json_extract(result, '$.started'), 'finished', json_extract(result, '$.finished'),
    'bytesScrubbed', json_extract(result, '$.bytes_scrubbed'), 'errorsFound', json_extract(result, '$.errors_found'),
    'csumErrors', json_extract(result, '$.csum_errors'), 'readErrors', json_extract(result, '$.read_errors'),
    'correctedErrors', json_extract(result, '$.corrected_errors'), 'uncorrectableErrors', json_extract(result, '$.uncorrectable_errors')
  ) WHERE operation = 'scrub';
  UPDATE pool_maintenance SET result = json_object(
    'started', json_extract(result, '$.started'), 'finished', json_extract(result, '$.finished'),
    'usedBytesBefore', json_extract(result, '$.used_bytes_before'), 'usedBytesAfter', json_extract(result, '$.used_bytes_after'),
    'bytesSaved', json_extract(result, '$.bytes_saved'), 'filesScanned', json_extract(result, '$.files_scanned')
  ) WHERE operation = 'dedupe';
  `,
  // 7: replication relationships, one row per side on each server (the record as JSON: it holds the peer's password, like CHAP secrets).
  `
  CREATE TABLE replications (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
  `,
  // 8: a relationship carries one volume or a volume group's members: which volumes it holds move
  // to their own table, and a record's volume, base and pending stream become its volumes list.
  `
  CREATE TABLE replications_8 (id TEXT PRIMARY KEY, record TEXT NOT NULL);
  INSERT INTO replications_8 (id, record) SELECT id, json_set(
    json_remove(record, '$.volumeId', '$.lastSnapshotId', '$.pending'),
    '$.volumeGroupId', json('null'),
    '$.pendingSnapshotTime', json_extract(record, '$.pending.snapshotTime'),
    '$.volumes', json_array(json_object(
      'volumeId', json_extract(record, '$.volumeId'),
      'lastSnapshotId', json_extract(record, '$.lastSnapshotId'),
      'pending', CASE WHEN json_type(record, '$.pending') = 'object' THEN json(json_remove(json_extract(record, '$.pending'), '$.snapshotTime')) END
    ))
  ) FROM replications;
  CREATE TABLE replication_volumes (volume_id TEXT PRIMARY KEY, replication_id TEXT NOT NULL);
  INSERT INTO replication_volumes (volume_id, replication_id) SELECT volume_id, id FROM replications;
  DROP TABLE replications;
  ALTER TABLE replications_8 RENAME TO replications;
  CREATE INDEX replication_volumes_by_replication ON replication_volumes (replication_id);
  `,
  // 9: a pool's backend (btrfs until now) and, for rbd pools, how to reach the Ceph cluster (JSON).
  `
  ALTER TABLE pools ADD COLUMN backend TEXT NOT NULL DEFAULT 'btrfs';
  ALTER TABLE pools ADD COLUMN ceph TEXT;
  `,
];
