/**
 * A database keeps its data and its write-ahead log on two volumes. Snapshotted one after the
 * other, the pair could hold a log older than the data; a GroupSnapshot takes both at one instant
 * (the server holds the volumes' iSCSI I/O while it snapshots them), so the pair is what a crash
 * at that instant would have left: a state the database recovers from.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

export = async () => {
  const pool = await dpl.getPool();
  const data = new dpl.Volume("db-data", { pool, sizeGib: 2, name: "db-data" });
  const wal = new dpl.Volume("db-wal", { pool, sizeGib: 1, name: "db-wal" });

  // Adding or removing a member later changes the group in place.
  const group = new dpl.VolumeGroup("db", { volumes: [data, wal], name: "db" });
  const nightly = new dpl.GroupSnapshot("db-nightly", { volumeGroup: group, name: "nightly" });

  // A member snapshot is an ordinary snapshot: clone the data volume as it was in the group snapshot.
  const dataSnapshot = pulumi.all([nightly.memberSnapshots, data.volumeId]).apply(([members, id]) => members[id] ?? "");
  const restoreTest = new dpl.Clone("db-data-restore-test", { sourceVolume: data, sourceSnapshot: dataSnapshot, name: "db-data-restore-test" });

  return { groupId: group.volumeGroupId, memberSnapshots: nightly.memberSnapshots, restoreTest: restoreTest.volumeId, data: data.volumeId, wal: wal.volumeId };
};
