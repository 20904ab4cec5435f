/**
 * A mirrored pool whose device list changes in place: the pool and the volume in it stay.
 *
 *   pulumi config set devicesGib 1,1     two 1 GiB image files (the default)
 *   pulumi config set devicesGib 1,1,1   preview: ~ update Pool (a device is added)
 *   pulumi config set devicesGib 1,2     ~ update Pool (a 1 GiB device replaced by a 2 GiB one, another removed)
 *
 * Devices are matched by size or path, not position. On real hardware name block devices
 * (`{ path: "/dev/sdc" }`, on the server's allow-list); to heal a Degraded pool, change the
 * missing device's entry to a new device and `pulumi up` rebuilds it (docs/OPERATIONS.md).
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();
const devicesGib = (config.get("devicesGib") ?? "1,1").split(",").map((size) => Number(size.trim()));

const pool = new dpl.Pool("mirror", {
  name: "growing-mirror",
  raidLevel: "raid1",
  devices: devicesGib.map((sizeGib) => ({ sizeGib })),
});

const data = new dpl.Volume("data", { pool, sizeGib: 0.25, name: "on-the-mirror" });

export const poolId = pool.poolId;
export const volumeId = data.volumeId;
export const usableBytes = pool.totalBytes;
/** "Online", or "Degraded" while a device is missing. */
export const state = pool.state;
/** Devices not Online (their ids are what a replace names). */
export const unhealthyDevices = pool.deviceHealth.apply((devices) => devices.filter((d) => d.state !== "Online").map((d) => d.deviceId));
/** btrfs error counters summed over all devices (`btrfs device stats`); anything above 0 deserves a scrub. */
export const deviceErrors = pool.deviceHealth.apply((devices) =>
  devices.reduce((sum, d) => sum + d.errors.read + d.errors.write + d.errors.flush + d.errors.corruption + d.errors.generation, 0));
