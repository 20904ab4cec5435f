/** Replication bodies as core's commands. */
import type { ReplicationCreateBody, ReplicationOperation, ReplicationPeer, ReplicationSettingsBody } from "@prophetstor/dpl-provider/wire";
import type { NewReplication, PeerEndpoint, ReplicationChanges, SyncCommit } from "../../core/commands";
import type { WireCommand } from "./wire-command";

export function peerEndpoint(peer: ReplicationPeer): PeerEndpoint {
  return { url: peer.url, username: peer.username, password: peer.password, caCertificate: peer.ca_certificate };
}

export function newReplication(body: ReplicationCreateBody): WireCommand<NewReplication> {
  const m = body.metadata;
  return {
    command: {
      name: m.display_name ?? undefined, description: m.display_description ?? undefined,
      // The body's schema admits exactly one of the two.
      source: m.source_volume_group === undefined ? { volumeId: m.source_volume ?? "" } : { volumeGroupId: m.source_volume_group },
      target: peerEndpoint(m.target), targetPoolId: m.target_pool_uuid, rpoSeconds: m.rpo_seconds, rateLimitBytesPerSecond: m.rate_limit_bytes_per_second,
    },
    fields: {
      "source.volumeId": "metadata.source_volume", "source.volumeGroupId": "metadata.source_volume_group",
      target: "metadata.target", targetPoolId: "metadata.target_pool_uuid",
    },
  };
}

export function replicationChanges(body: ReplicationSettingsBody): WireCommand<ReplicationChanges> {
  const s = body.metadata.replication_settings;
  return {
    command: {
      name: s.display_name, rpoSeconds: s.rpo_seconds, rateLimitBytesPerSecond: s.rate_limit_bytes_per_second,
      target: s.target === undefined ? undefined : peerEndpoint(s.target),
    },
    fields: { target: "metadata.replication_settings.target" },
  };
}

export function syncCommit(operation: ReplicationOperation<"commit">): SyncCommit {
  return {
    snapshotTime: operation.snapshot_time,
    transfers: operation.transfers.map((t) => ({
      volumeId: t.volume, snapshotId: t.snapshot, parentSnapshotId: t.parent_snapshot, bytes: t.bytes, sha256: t.sha256, volumeSize: t.volume_size,
    })),
  };
}
