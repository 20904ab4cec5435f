/** Pool bodies (create, settings, devices, schedule) as core's commands. */
import type { MaintenanceSchedule, PoolCreateBody, PoolDevice, PoolDeviceChange, PoolSettings } from "@prophetstor/dpl-provider/wire";
import type { DeviceChange, DeviceRequest, MaintenanceIntervals, NewPool } from "../../core/commands";
import type { PoolSettingsChange } from "../../core/records";
import type { WireCommand } from "./wire-command";

function deviceRequest(device: PoolDevice): DeviceRequest {
  return device.type === "image_file" ? { type: "image_file", size: device.size } : { type: "block_device", path: device.path };
}

export function maintenanceIntervals(schedule: MaintenanceSchedule): MaintenanceIntervals {
  return { scrubEverySeconds: schedule.scrub_every_seconds, dedupeEverySeconds: schedule.dedupe_every_seconds };
}

export function newPool(body: PoolCreateBody): WireCommand<NewPool> {
  const m = body.metadata;
  return {
    command: {
      name: m.display_name,
      description: m.display_description ?? undefined,
      raid: m.properties.raid_level,
      compression: m.properties.compression,
      maxOversubscription: m.properties.max_oversubscription,
      forceRaid56: m.properties.force_raid56,
      devices: m.devices.map(deviceRequest),
      maintenanceSchedule: m.maintenance_schedule === undefined ? undefined : maintenanceIntervals(m.maintenance_schedule),
      backend: m.backend,
      ceph: m.ceph === undefined
        ? undefined
        : { configPath: m.ceph.config_path, keyringPath: m.ceph.keyring_path, clientId: m.ceph.client_id, rbdPool: m.ceph.rbd_pool },
    },
    fields: {
      name: "metadata.display_name",
      description: "metadata.display_description",
      raid: "metadata.properties.raid_level",
      compression: "metadata.properties.compression",
      maxOversubscription: "metadata.properties.max_oversubscription",
      forceRaid56: "metadata.properties.force_raid56",
      devices: "metadata.devices",
      maintenanceSchedule: "metadata.maintenance_schedule",
      backend: "metadata.backend",
      ceph: "metadata.ceph",
      "ceph.configPath": "metadata.ceph.config_path",
      "ceph.keyringPath": "metadata.ceph.keyring_path",
      "ceph.clientId": "metadata.ceph.client_id",
      "ceph.rbdPool": "metadata.ceph.rbd_pool",
    },
  };
}

/** The wire's settings as core's change (absent stays absent: the store leaves those columns alone). */
export function poolSettingsChange(settings: PoolSettings): WireCommand<PoolSettingsChange> {
  return {
    command: {
      ...(settings.display_name === undefined ? {} : { name: settings.display_name }),
      ...(settings.display_description === undefined ? {} : { description: settings.display_description }),
      ...(settings.compression === undefined ? {} : { compression: settings.compression }),
      ...(settings.max_oversubscription === undefined ? {} : { maxOversubscription: settings.max_oversubscription }),
      ...(settings.raid_level === undefined ? {} : { raid: settings.raid_level }),
      ...(settings.force_raid56 === undefined ? {} : { forceRaid56: settings.force_raid56 }),
    },
    fields: {
      name: "metadata.pool_settings.display_name",
      description: "metadata.pool_settings.display_description",
      compression: "metadata.pool_settings.compression",
      maxOversubscription: "metadata.pool_settings.max_oversubscription",
      raid: "metadata.pool_settings.raid_level",
      forceRaid56: "metadata.pool_settings.force_raid56",
    },
  };
}

export function deviceChange(change: PoolDeviceChange): WireCommand<DeviceChange> {
  switch (change.device_operation) {
    case "add":
      return { command: { operation: "add", devices: change.devices.map(deviceRequest) }, fields: { operation: "metadata.device_operation", devices: "metadata.devices" } };
    case "remove":
      return { command: { operation: "remove", deviceIds: change.device_uuids }, fields: { operation: "metadata.device_operation", deviceIds: "metadata.device_uuids" } };
    case "replace":
      return {
        command: { operation: "replace", deviceId: change.device_uuid, device: deviceRequest(change.device) },
        fields: { operation: "metadata.device_operation", deviceId: "metadata.device_uuid", device: "metadata.device" },
      };
  }
}
