/** Replication relationships and transfers as the wire shows them (credentials never). */
import type { ReplicationReply, TransferReply } from "@prophetstor/dpl-provider/wire";
import type { ReplicationView } from "../core/replication-service";
import type { TransferState } from "../core/replication-ports";
import type { PendingTransfer } from "../core/records";
import { envelope } from "./replies";

export const REPLICATION_PARENT = "/dpl_replication";

function transferOf(pending: PendingTransfer | null): ReplicationReply["metadata"]["transfer"] {
  return pending === null ? null : { snapshot: pending.snapshotId, parent_snapshot: pending.parentSnapshotId, bytes: pending.bytes, sha256: pending.sha256 };
}

export function replicationReply(view: ReplicationView): ReplicationReply {
  const r = view.record;
  // Of one volume, its base and stream are also shown at the top, as they were before groups.
  const single = r.volumeGroupId === null && r.volumes.length === 1 ? r.volumes[0] : undefined;
  return {
    ...envelope({ id: r.id, name: r.name ?? r.id, parentURI: REPLICATION_PARENT }),
    metadata: {
      replication_uuid: r.id, display_name: r.name, display_description: r.description, role: r.role, state: view.state,
      volume: single?.volumeId ?? null, volume_group: r.volumeGroupId,
      volumes: r.volumes.map((v) => ({ volume: v.volumeId, last_synced_snapshot: v.lastSnapshotId, transfer: transferOf(v.pending) })),
      pool_uuid: r.poolId, peer_url: r.peer?.url ?? null, peer_pool_uuid: r.peerPoolId,
      rpo_seconds: r.rpoSeconds, rate_limit_bytes_per_second: r.rateLimitBytesPerSecond,
      last_synced_snapshot: single?.lastSnapshotId ?? null, last_synced_snapshot_time: r.lastSnapshotTime, last_sync_finished: r.lastSyncFinished,
      lag_seconds: view.lagSeconds, last_sync_bytes: r.lastSyncBytes, total_bytes_sent: r.totalBytes, last_error: r.lastError,
      transfer: transferOf(single?.pending ?? null),
    },
  };
}

export function transferReply(snapshotId: string, state: TransferState): TransferReply {
  return { snapshot: snapshotId, received_bytes: state.receivedBytes, written_bytes: state.writtenBytes };
}
