/**
 * How a Pool's device list converges in place. A device input carries no id, only what it is (an
 * image file of some size, or a block device path), so devices are matched by that: a device the
 * program still names stays, whatever its position. What the program no longer names is paired
 * with what it newly names as replacements (a missing device first, so it is rebuilt); the rest
 * are added or removed.
 */
import type { PoolDevice, PoolDeviceChange, PoolReply } from "../wire";

type ServerDevice = PoolReply["metadata"]["devices"][number];

function wantedKey(device: PoolDevice): string {
  return device.type === "image_file" ? `image:${device.size}` : `block:${device.path}`;
}

function serverKey(device: ServerDevice): string {
  return device.type === "image_file" ? `image:${device.size}` : `block:${device.path}`;
}

/** True when two device lists name the same devices (order does not matter). */
export function sameDevices(a: readonly PoolDevice[], b: readonly PoolDevice[]): boolean {
  const keys = (list: readonly PoolDevice[]): string => list.map(wantedKey).sort().join("\n");
  return keys(a) === keys(b);
}

/** Changes that turn the server's devices into the wanted ones, in the order to apply them. */
export function planDeviceChanges(current: readonly ServerDevice[], wanted: readonly PoolDevice[]): PoolDeviceChange[] {
  // Working devices are kept in preference to missing ones of the same kind.
  const unclaimed = [...current].sort((a, b) => Number(a.state === "Missing") - Number(b.state === "Missing"));
  const added: PoolDevice[] = [];
  for (const device of wanted) {
    const at = unclaimed.findIndex((candidate) => serverKey(candidate) === wantedKey(device));
    if (at >= 0) unclaimed.splice(at, 1);
    else added.push(device);
  }
  const leaving = unclaimed.sort((a, b) => Number(b.state === "Missing") - Number(a.state === "Missing"));
  const changes: PoolDeviceChange[] = [];
  const removed: string[] = [];
  for (const old of leaving) {
    // btrfs replaces onto a device at least as large; a smaller one is an add plus a remove.
    const at = added.findIndex((device) => device.type === "block_device" || device.size >= old.size);
    const replacement = at >= 0 ? added.splice(at, 1)[0] : undefined;
    if (replacement === undefined) removed.push(old.device_uuid);
    else changes.push({ device_operation: "replace", device_uuid: old.device_uuid, device: replacement });
  }
  // Add before remove: the data leaving the removed devices needs somewhere to go.
  if (added.length > 0) changes.push({ device_operation: "add", devices: added });
  if (removed.length > 0) changes.push({ device_operation: "remove", device_uuids: removed });
  return changes;
}
