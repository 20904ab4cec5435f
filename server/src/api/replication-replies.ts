/** Replication relationships and transfers as the wire shows them (credentials never). */
import type { ReplicationReply, TransferReply } from "@prophetstor/dpl-provider/wire";
import type { ReplicationView } from "../core/replication-service";
import type { TransferState } from "../core/replication-ports";
import { envelope } from "./replies";

export const REPLICATION_PARENT = "/dpl_replication";

export function replicationReply(view: ReplicationView): ReplicationReply {
  const r = view.record;
  return {
    ...envelope({ id: r.id, name: r.name ?? r.id, parentURI: REPLICATION_PARENT }),
    metadata: {
      replication_uuid: r.id, display_name: r.name, display_description: r.description, role: r.role, state: view.state,
      volume: r.volumeId, pool_uuid: r.poolId, peer_url: r.peer?.url ?? null, peer_pool_uuid: r.peerPoolId,
      rpo_seconds: r.rpoSeconds, rate_limit_bytes_per_second: r.rateLimitBytesPerSecond,
      last_synced_snapshot: r.lastSnapshotId, last_synced_snapshot_time: r.lastSnapshotTime, last_sync_finished: r.lastSyncFinished,
      lag_seconds: view.lagSeconds, last_sync_bytes: r.lastSyncBytes, total_bytes_sent: r.totalBytes, last_error: r.lastError,
      transfer: r.pending === null ? null : { snapshot: r.pending.snapshotId, parent_snapshot: r.pending.parentSnapshotId, bytes: r.pending.bytes, sha256: r.pending.sha256 },
    },
  };
}

export function transferReply(snapshotId: string, state: TransferState): TransferReply {
  return { snapshot: snapshotId, received_bytes: state.receivedBytes, written_bytes: state.writtenBytes };
}
