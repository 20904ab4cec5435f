/** Volume and snapshot bodies (dpl-protocol.md §2.4) as core's commands. */
import {
  snapshotIdOfPath,
  type CloneBody, type CopyFromSnapshotBody, type RollbackBody, type SnapshotCreateBody, type SpawnBody,
  type VolumeCreateBody, type VolumeFromImageBody, type VolumeModifyBody, type VolumeProperties,
} from "@prophetstor/dpl-provider/wire";
import type { z } from "zod";
import type {
  ClonedVolume, NewSnapshot, NewVolume, RollbackTo, SpawnedVolume, VolumeChanges, VolumeFromImage, VolumeFromSnapshot, VolumeSettings,
} from "../../core/commands";
import { nestedFields, type WireCommand, type WireFields } from "./wire-command";

type Parsed<S extends z.ZodType> = z.output<S>;

/** The metadata every volume-making body may carry (pool and size are optional in most). */
interface VolumeMetadata {
  display_name?: string | null | undefined;
  display_description?: string | null | undefined;
  pool_uuid?: string | undefined;
  total_capacity?: number | undefined;
  maximum_snapshot?: number | undefined;
  snapshot_quota?: number | undefined;
  properties?: Partial<VolumeProperties> | undefined;
}

const SETTINGS_FIELDS: WireFields = {
  name: "metadata.display_name",
  description: "metadata.display_description",
  poolId: "metadata.pool_uuid",
  sizeBytes: "metadata.total_capacity",
  thin: "metadata.properties.thin_provision",
  compression: "metadata.properties.compression",
  cacheMode: "metadata.properties.cache_mode",
  maximumSnapshot: "metadata.maximum_snapshot",
  snapshotQuota: "metadata.snapshot_quota",
};
const NESTED_SETTINGS_FIELDS = nestedFields("settings", SETTINGS_FIELDS);
const NAMING_FIELDS: WireFields = { name: "metadata.display_name", description: "metadata.display_description" };

/** Cinder's null name or description means none given. */
function given<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined;
}

function settingsOf(m: VolumeMetadata): VolumeSettings {
  return {
    name: given(m.display_name),
    description: given(m.display_description),
    poolId: m.pool_uuid,
    sizeBytes: m.total_capacity,
    thin: m.properties?.thin_provision,
    compression: m.properties?.compression,
    cacheMode: m.properties?.cache_mode,
    maximumSnapshot: m.maximum_snapshot,
    snapshotQuota: m.snapshot_quota,
  };
}

export function newVolume(body: Parsed<typeof VolumeCreateBody>): WireCommand<NewVolume> {
  const m = body.metadata;
  return { command: { ...settingsOf(m), poolId: m.pool_uuid, sizeBytes: m.total_capacity }, fields: SETTINGS_FIELDS };
}

export function volumeFromSnapshot(body: Parsed<typeof CopyFromSnapshotBody>): WireCommand<VolumeFromSnapshot> {
  // The volume segment of the path is not trusted: the historical copy names the new volume there (D8).
  return {
    command: { snapshotId: snapshotIdOfPath(body.copy), settings: settingsOf(body.metadata) },
    fields: { snapshotId: "copy", ...NESTED_SETTINGS_FIELDS },
  };
}

export function spawnedVolume(body: Parsed<typeof SpawnBody>): WireCommand<SpawnedVolume> {
  const m = body.metadata;
  return {
    command: { snapshotId: snapshotIdOfPath(body.copy), name: given(m.display_name), description: given(m.display_description) },
    fields: { snapshotId: "copy", ...NAMING_FIELDS },
  };
}

export function clonedVolume(body: Parsed<typeof CloneBody>): WireCommand<ClonedVolume> {
  return { command: { sourceVolumeId: body.copy, settings: settingsOf(body.metadata) }, fields: { sourceVolumeId: "copy", ...NESTED_SETTINGS_FIELDS } };
}

export function volumeFromImage(body: Parsed<typeof VolumeFromImageBody>): WireCommand<VolumeFromImage> {
  const m = body.metadata;
  return {
    command: { image: body.image, settings: { ...settingsOf(m), poolId: m.pool_uuid } },
    fields: { image: "image", ...NESTED_SETTINGS_FIELDS },
  };
}

export function volumeChanges(body: Parsed<typeof VolumeModifyBody>): WireCommand<VolumeChanges> {
  const m = body.metadata;
  return {
    command: {
      // null is kept: it resets the name to the id and clears the description.
      name: m.display_name,
      description: m.display_description,
      sizeBytes: m.total_capacity,
      maximumSnapshot: m.maximum_snapshot,
      snapshotQuota: m.snapshot_quota,
      compression: m.properties?.compression,
      cacheMode: m.properties?.cache_mode,
      thin: m.properties?.thin_provision,
      moveToPoolId: m.move_to_pool,
    },
    fields: { ...SETTINGS_FIELDS, moveToPoolId: "metadata.move_to_pool" },
  };
}

/** A volume's snapshot and a group's snapshot have the same body. */
export function newSnapshot(body: Parsed<typeof SnapshotCreateBody>): WireCommand<NewSnapshot> {
  return {
    command: { snapshotId: body.snapshot, name: given(body.metadata?.display_name), description: given(body.metadata?.display_description) },
    fields: { snapshotId: "snapshot", ...NAMING_FIELDS },
  };
}

export function rollbackTo(body: Parsed<typeof RollbackBody>): WireCommand<RollbackTo> {
  return { command: { snapshotId: snapshotIdOfPath(body.copy) }, fields: { snapshotId: "copy" } };
}
