/**
 * The server-to-server replication operations as the wire carries them: what a source sends its
 * target (accept, commit) and what a promoted target sends its old source (demote), built from
 * core's terms. Every peer link sends these bodies; the target's routes read them back.
 */
import type { ReplicationOperation as Operation } from "@prophetstor/dpl-provider/wire";
import type { ReplicaAnnouncement, SyncCommit } from "../../core/commands";
import type { SharedBase } from "../../core/replication-ports";

export function acceptOperation(replica: ReplicaAnnouncement): Operation<"accept"> {
  return { replication_operation: "accept", volumes: replica.volumeIds, volume_group: replica.volumeGroupId, pool_uuid: replica.poolId, display_name: replica.name };
}

export function commitOperation(commit: SyncCommit): Operation<"commit"> {
  return {
    replication_operation: "commit",
    snapshot_time: commit.snapshotTime,
    transfers: commit.transfers.map((t) => ({
      volume: t.volumeId, snapshot: t.snapshotId, parent_snapshot: t.parentSnapshotId, bytes: t.bytes, sha256: t.sha256, volume_size: t.volumeSize,
    })),
  };
}

export function demoteOperation(bases: readonly SharedBase[]): Operation<"demote"> {
  return { replication_operation: "demote", bases: bases.map((b) => ({ volume: b.volumeId, snapshot: b.snapshotId })) };
}
