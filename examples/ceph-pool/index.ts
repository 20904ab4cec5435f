/**
 * A pool whose volumes are RBD images in a Ceph pool: Ceph keeps the copies (size 3 in
 * production), so a lost OSD loses nothing and several DPL servers can share one cluster. The
 * files named here live on the DPL server and must be on its `--allow-ceph-file` list; the
 * keyring's user needs `mon 'profile rbd' osd 'profile rbd pool=<rbdPool>' mgr 'profile rbd
 * pool=<rbdPool>'`. See docs/OPERATIONS.md, "Pools on Ceph RBD".
 *
 * The snapshot is an RBD snapshot and the clone a copy-on-write RBD clone of it: no data is
 * copied. Deleting the snapshot later flattens the clone first, so the clone keeps its data.
 * The backend and the Ceph connection are fixed at creation: changing them fails at preview.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();

const pool = new dpl.Pool("ceph", {
  name: "ceph",
  backend: "rbd",
  ceph: {
    configPath: config.require("cephConfig"),
    keyringPath: config.require("cephKeyring"),
    clientId: config.require("cephUser"),
    rbdPool: config.require("rbdPool"),
  },
}, { protect: config.getBoolean("keepData") ?? true });

const database = new dpl.Volume("database", { pool, sizeGib: 10, name: "database" });
const nightly = new dpl.Snapshot("nightly", { volume: database, name: "nightly" });
const reporting = new dpl.Clone("reporting", { sourceVolume: database, sourceSnapshot: nightly, name: "reporting" });

export const poolId = pool.poolId;
export const clusterState = pool.state;
export const freeBytes = pool.freeBytes;
export const databaseId = database.volumeId;
export const reportingId = reporting.volumeId;
