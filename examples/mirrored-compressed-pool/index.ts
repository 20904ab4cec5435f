/**
 * A pool mirrored over two devices (btrfs raid1: reads repair from the good copy) with zstd
 * compression. Image files are made by the server in its state directory; on real hardware give
 * block devices instead: `devices: [{ path: "/dev/sdb" }, { path: "/dev/sdc" }]`. Changing the
 * devices later is an in-place update (see ../pool-device-changes). The server scrubs the mirror
 * monthly and dedupes it weekly on its own; changing those intervals is an in-place update too.
 *
 * The pool and its volume hold data, so they are protected: `pulumi destroy`, or removing them
 * from the program, fails instead of deleting them (`pulumi config set keepData false` to allow
 * it, or `pulumi state unprotect`). `retainOnDelete` goes further for the volume: even when
 * Pulumi deletes it (unprotected), the volume stays on the server with its data, out of the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const keepData = new pulumi.Config().getBoolean("keepData") ?? true;

const pool = new dpl.Pool("mirrored", {
  name: "mirrored-zstd",
  devices: [{ sizeGib: 1 }, { sizeGib: 1 }],
  raidLevel: "raid1",
  compression: "zstd",
  maxOversubscription: 4,
  scrubIntervalHours: 30 * 24,
  dedupeIntervalHours: 7 * 24,
}, { protect: keepData });

// Thin: it may be over-subscribed up to maxOversubscription in total, but no single volume may exceed the pool.
const logs = new dpl.Volume("logs", { pool, sizeGib: 0.5, name: "logs" }, { protect: keepData, retainOnDelete: keepData });

export const poolId = pool.poolId;
export const usableBytes = pool.totalBytes;
export const state = pool.state;
export const deviceStates = pool.deviceHealth.apply((devices) => devices.map((d) => d.state));
export const volumeId = logs.volumeId;
export const nextScrubAt = pool.nextScrubAt;
