/** Target, volume group and image bodies as core's commands. */
import type { ImageCreateBody, TargetCreateBody, VolgroupCreateBody, VolgroupMembershipBody } from "@prophetstor/dpl-provider/wire";
import type { z } from "zod";
import type { MembershipChange, NewImage, NewTarget, NewVolumeGroup } from "../../core/commands";
import type { WireCommand } from "./wire-command";

export function newTarget(body: z.output<typeof TargetCreateBody>): WireCommand<NewTarget> {
  const m = body.metadata;
  return {
    command: { protocol: m.protocol, name: m.display_name ?? undefined, description: m.display_description ?? undefined, address: m.address },
    fields: { protocol: "metadata.protocol", address: "metadata.address", name: "metadata.display_name" },
  };
}

export function newVolumeGroup(body: z.output<typeof VolgroupCreateBody>): WireCommand<NewVolumeGroup> {
  const m = body.metadata;
  return {
    command: {
      volumeIds: m.volume,
      name: m.display_name ?? undefined,
      description: m.display_description ?? undefined,
      maximumSnapshot: m.maximum_snapshot,
      snapshotRotation: m.properties?.snapshot_rotation,
    },
    fields: { volumeIds: "metadata.volume", name: "metadata.display_name", maximumSnapshot: "metadata.maximum_snapshot" },
  };
}

export function membershipChange(body: z.output<typeof VolgroupMembershipBody>): WireCommand<MembershipChange> {
  const m = body.metadata;
  return { command: { operation: m.volume_group_operation, volumeIds: m.volume }, fields: { volumeIds: "metadata.volume" } };
}

export function newImage(body: z.output<typeof ImageCreateBody>): WireCommand<NewImage> {
  const m = body.metadata;
  return {
    command: { sourceVolumeId: m.source_volume, sourceSnapshotId: m.source_snapshot, format: m.format, directory: m.directory },
    fields: {
      sourceVolumeId: "metadata.source_volume",
      sourceSnapshotId: "metadata.source_snapshot",
      format: "metadata.format",
      directory: "metadata.directory",
    },
  };
}
