/**
 * Disaster recovery for a database's volumes: the data and WAL volumes form a group, so both
 * replicas always share one point in time; the group is replicated to a second DPL server every
 * 15 minutes (and at once on `pulumi up` after `syncGeneration` is bumped). When the first site is
 * lost, `pulumi config set failover true && pulumi up` promotes the replicas on the DR server:
 * they become writable, exportable volumes there. The Failover is an action: kept in the state, it
 * never fires again. The DR server's password comes from a config secret, never the program.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();

export = async () => {
  const pool = await dpl.getPool();
  const data = new dpl.Volume("data", { pool, sizeGib: 1, name: "db-data" });
  const wal = new dpl.Volume("wal", { pool, sizeBytes: 256 * 2 ** 20, name: "db-wal" });
  const group = new dpl.VolumeGroup("db", { volumes: [data, wal], name: "db" });

  const dr = {
    url: config.require("drUrl"),
    username: config.get("drUsername") ?? "admin",
    password: config.requireSecret("drPassword"),
    caCertificate: config.get("drCaCertificate") || undefined,
  };
  const replication = new dpl.Replication("db-to-dr", {
    volumeGroup: group,
    targetUrl: dr.url,
    targetCredentials: { username: dr.username, password: dr.password },
    targetCaCertificate: dr.caCertificate,
    targetPool: config.require("drPool"),
    rpoSeconds: 15 * 60,
    syncTriggers: [config.getNumber("syncGeneration") ?? 1],
    name: "db to DR",
  });
  const failover = config.getBoolean("failover") === true
    ? new dpl.Failover("db-failover", { replication: replication.replicationId, replicaServer: dr })
    : undefined;

  return {
    replication: replication.replicationId,
    replicas: replication.replicaVolumeIds,
    lastSyncedAt: replication.lastSyncedAt,
    promotedAt: failover?.promotedAt,
  };
};
