/**
 * Shapes wire replies (provider/src/wire) from core's views. Every object reply carries the CDMI
 * container envelope; `completionStatus` says whether the object is usable yet.
 */
import {
  CacheMode, CDMI_CONTAINER, RaidLevel,
  type CompletionStatus, type DiskListReply, type Envelope, type EventReply, type ImageReply, type IscsiExportEntry, type PoolReply, type SnapshotReply,
  type IoStatsReply, type SystemReply, type TargetReply, type VolgroupReply, type VolgroupSnapshotReply, type VolumeReply,
} from "@prophetstor/dpl-provider/wire";
import type { CoreSettings } from "../core/context";
import type { DiskView } from "../core/discovery-service";
import type { PoolView } from "../core/pool-service";
import type {
  EventRecord, ExportRecord, GroupSnapshotRecord, ObjectState, SnapshotRecord, TargetRecord,
} from "../core/records";
import type { IoStatsView } from "../core/io-stats-service";
import type { ImageView } from "../core/image-service";
import type { VolumeGroupView } from "../core/volgroup-service";
import type { VolumeView } from "../core/volume-service";

export function completionOf(state: ObjectState): CompletionStatus {
  if (state === "available") return "Complete";
  if (state === "error") return "Error";
  return "Processing";
}

export function envelope(fields: { id: string; name: string; parentURI: string; parentID?: string; status?: CompletionStatus }): Envelope {
  const status = fields.status ?? "Complete";
  return {
    objectType: CDMI_CONTAINER,
    objectID: fields.id,
    objectName: fields.name,
    parentURI: fields.parentURI,
    parentID: fields.parentID ?? "",
    domainURI: "",
    capabilitiesURI: "",
    completionStatus: status,
    percentComplete: status === "Processing" ? 0 : 100,
    childrenrange: "",
  };
}

function exportEntry(record: ExportRecord, portals: string[]): IscsiExportEntry {
  const authentication: IscsiExportEntry["authentication"] = record.chap === null
    ? { method: "None" }
    : record.mutualChap === null
      ? { method: "CHAP", username: record.chap.username }
      : { method: "CHAP", username: record.chap.username, mutual_username: record.mutualChap.username };
  return {
    target_identifier: record.iqn,
    portals,
    logical_unit_number: record.lun,
    logical_unit_name: record.logicalUnitName,
    permissions: record.initiators.map((initiator) => ({ [initiator]: record.lun })),
    authentication,
  };
}

export function volumeReply(view: VolumeView, exported: ExportRecord | undefined, settings: CoreSettings): VolumeReply {
  const v = view.volume;
  return {
    ...envelope({ id: v.id, name: v.id, parentURI: "/dpl_volume", parentID: v.poolId, status: completionOf(v.state) }),
    metadata: {
      type: "volume",
      display_name: v.name,
      display_description: v.description,
      pool_uuid: v.poolId,
      total_capacity: v.sizeBytes,
      used_capacity: view.usedBytes,
      maximum_snapshot: v.maximumSnapshot,
      snapshot_quota: v.snapshotQuota,
      properties: { thin_provision: v.thin, compression: v.compression, cache_mode: v.cacheMode },
      state: v.state,
      origin_uuid: v.originId,
      ...(v.imageSource === null ? {} : { image_source: v.imageSource }),
      volume_group_uuid: v.volumeGroupId,
      ctime: v.ctime,
      mtime: v.mtime,
    },
    children: view.snapshotIds,
    exports: exported === undefined ? {} : { "Network/iSCSI": [exportEntry(exported, settings.portals)] },
    snapshots: view.snapshotIds,
  };
}

export function snapshotReply(s: SnapshotRecord): SnapshotReply {
  return {
    ...envelope({ id: s.id, name: s.id, parentURI: `/dpl_volume/${s.volumeId}/cdmi_snapshots`, parentID: s.volumeId, status: completionOf(s.state) }),
    metadata: {
      type: "snapshot",
      snapshot_uuid: s.id,
      display_name: s.name,
      display_description: s.description,
      origin_uuid: s.volumeId,
      total_capacity: s.sizeBytes,
      // Bytes held only by the snapshot need btrfs qgroups, which are off (they slow snapshots).
      snapshot_used_capacity: 0,
      volume_group_uuid: s.volumeGroupId,
      state: s.state === "creating" ? "available" : s.state === "deleting" ? "deleting" : s.state,
      ctime: s.ctime,
    },
    children: [],
  };
}

export function poolReply(view: PoolView, settings: CoreSettings): PoolReply {
  const p = view.pool;
  const healthOf = new Map(view.health.devices.map((d) => [d.deviceId, d]));
  return {
    ...envelope({ id: p.id, name: p.id, parentURI: "/dpl_pool", status: completionOf(p.state) }),
    metadata: {
      pool_uuid: p.id,
      display_name: p.name,
      display_description: p.description,
      total_capacity: view.usage.totalBytes,
      available_capacity: view.usage.freeBytes,
      used_capacity: view.usage.usedBytes,
      provisioned_capacity: view.provisionedBytes,
      max_oversubscription: p.maxOversubscription,
      state: p.state === "available" ? view.health.state : "Offline",
      properties: { raid_level: p.raid, compression: p.compression },
      backend: p.backend,
      ceph: p.ceph === null
        ? null
        : { config_path: p.ceph.configPath, keyring_path: p.ceph.keyringPath, client_id: p.ceph.clientId, rbd_pool: p.ceph.rbdPool },
      physical_device: { data: p.devices.map((d) => d.deviceId), cache: [], log: [], spare: [] },
      devices: p.devices.map((d) => {
        const health = healthOf.get(d.deviceId);
        return {
          device_uuid: d.deviceId,
          type: d.type,
          path: d.path,
          size: d.size,
          state: health === undefined ? "Unknown" : health.present ? "Online" : "Missing",
          errors: health?.errors ?? { read: 0, write: 0, flush: 0, corruption: 0, generation: 0 },
        };
      }),
      vendor: settings.vendor,
      version: settings.version,
      ctime: p.ctime,
    },
    children: view.childIds,
  };
}

export function eventInfo(e: EventRecord): EventReply["event"] {
  const info: EventReply["event"] = {
    event_uuid: e.id,
    operation: e.operation,
    object_uuid: e.objectId,
    status: e.status,
    percent_complete: e.percent,
    started: e.started,
    finished: e.finished,
  };
  if (e.errorCode !== null) info.error_code = e.errorCode;
  if (e.errorMessage !== null) info.error_message = e.errorMessage;
  return info;
}

/** An event poll reply; when Complete and the object still exists, the object's reply merged in. */
export function eventReply(e: EventRecord, parentURI: string, objectReply?: { metadata: object } & Record<string, unknown>): EventReply {
  const base = objectReply ?? envelope({ id: e.objectId, name: e.objectId, parentURI });
  const merged = e.status === "Complete" && objectReply !== undefined;
  return {
    ...base,
    completionStatus: e.status,
    percentComplete: e.percent,
    event: eventInfo(e),
    metadata: { ...(merged ? objectReply.metadata : {}), event_uuid: e.id },
  };
}

export function acceptedReply(e: EventRecord, objectId: string, parentURI: string): EventReply {
  return eventReply(e, parentURI, { ...envelope({ id: objectId, name: objectId, parentURI, status: e.status }), metadata: {} });
}

export function volgroupReply(view: VolumeGroupView): VolgroupReply {
  const g = view.group;
  return {
    ...envelope({ id: g.id, name: g.id, parentURI: "/dpl_volgroup", parentID: g.id }),
    children: view.memberIds,
    metadata: {
      type: "volume_group",
      volume_group_uuid: g.id,
      display_name: g.name,
      display_description: g.description,
      total_capacity: view.totalBytes,
      maximum_snapshot: g.maximumSnapshot,
      snapshot_quota: 0,
      state: "available",
      properties: { snapshot_rotation: g.snapshotRotation },
      ctime: g.ctime,
    },
  };
}

export function groupSnapshotReply(s: GroupSnapshotRecord): VolgroupSnapshotReply {
  return {
    ...envelope({ id: s.id, name: s.id, parentURI: `/dpl_volgroup/${s.groupId}/cdmi_snapshots`, parentID: s.groupId }),
    children: Object.values(s.members),
    metadata: {
      type: "snapshot",
      snapshot_uuid: s.id,
      origin_uuid: s.groupId,
      display_name: s.name,
      display_description: s.description,
      member: s.members,
      ctime: s.ctime,
    },
  };
}

export function targetReply(t: TargetRecord): TargetReply {
  return {
    ...envelope({ id: t.id, name: t.id, parentURI: "/dpl_export" }),
    metadata: {
      type: "target",
      target_uuid: t.id,
      protocol: t.protocol,
      display_name: t.name,
      display_description: t.description,
      address: t.address,
      volumes: [],
      ctime: t.ctime,
    },
    children: [],
  };
}

export function systemReply(settings: CoreSettings): SystemReply {
  return {
    ...envelope({ id: settings.serverName, name: settings.serverName, parentURI: "/" }),
    metadata: {
      vendor: settings.vendor,
      version: settings.version,
      server_name: settings.serverName,
      protocol_version: "1.0",
      storage_adapter: {},
      iscsi_portals: settings.portals,
      capabilities: {
        protocols: ["iscsi"],
        raid_levels: [...RaidLevel.options],
        compression: ["none", "lzo", "zstd"],
        thin_provisioning: true,
        snapshots: true,
        clones: true,
        rollback: true,
        volume_groups: true,
        chap: true,
        dedupe: false,
        scrub: false,
        prefer_wait: true,
        cache_modes: [...CacheMode.options],
      },
    },
  };
}

export function diskListReply(disks: DiskView[]): DiskListReply {
  return {
    ...listReply("/dpl_disk", disks.map((disk): [string, string] => [disk.path, disk.path])),
    metadata: {
      disks: disks.map((disk) => ({
        path: disk.path,
        size_bytes: disk.facts?.sizeBytes ?? null,
        model: disk.facts?.model ?? null,
        rotational: disk.facts?.rotational ?? null,
        pool_uuid: disk.poolId,
      })),
    },
  };
}

/** A list reply: `[id, name]` pairs (or longer tuples) under the collection's envelope. */
export function listReply<T>(parentURI: string, children: T[]): Envelope & { children: T[]; metadata: Record<string, never> } {
  return { ...envelope({ id: "", name: parentURI.replace(/^\//, ""), parentURI: "/" }), children, metadata: {} };
}

export function ioStatsReply(view: IoStatsView): IoStatsReply {
  const parent = view.kind === "pool" ? "/dpl_pool" : "/dpl_volume";
  const r = view.rates;
  return {
    ...envelope({ id: view.id, name: view.id, parentURI: `${parent}/${view.id}`, parentID: view.id }),
    metadata: {
      type: view.kind,
      object_uuid: view.id,
      sampled_at: view.sampledAt,
      window_seconds: view.windowSeconds,
      read: {
        ops: view.totals.readOps, bytes: view.totals.readBytes,
        ops_per_second: r?.readOpsPerSecond ?? null, bytes_per_second: r?.readBytesPerSecond ?? null, average_latency_ms: r?.readLatencyMs ?? null,
      },
      write: {
        ops: view.totals.writeOps, bytes: view.totals.writeBytes,
        ops_per_second: r?.writeOpsPerSecond ?? null, bytes_per_second: r?.writeBytesPerSecond ?? null, average_latency_ms: r?.writeLatencyMs ?? null,
      },
      errors: view.totals.errors,
      latency_source: view.latencySource,
    },
  };
}

export function imageReply(view: ImageView, parentURI: string): ImageReply {
  return {
    ...envelope({ id: view.id, name: view.path.split("/").pop() ?? view.id, parentURI }),
    metadata: {
      image_uuid: view.id,
      format: view.format,
      path: view.path,
      virtual_size: view.virtualSize,
      file_size: view.fileSize,
      allocated_size: view.allocatedBytes,
      content_uri: `/v1/dpl_image/${view.id}/content`,
      ctime: Math.floor(view.ctime),
    },
    children: [],
  };
}
