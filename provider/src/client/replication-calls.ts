/**
 * The client's replication calls (this server's extension of DPL's Replication area): a
 * relationship is created and changed on the source, synced there (202 + event), promoted on
 * the target, and reversed from a promoted target toward the old source.
 */
import type { z } from "zod";
import {
  ReplicationCreateBody,
  ReplicationListReply,
  ReplicationOperationBody,
  ReplicationReply,
  ReplicationSettingsBody,
  type ReplicationPeer,
} from "../wire";
import { DplCalls } from "./dpl-calls";
import type { NamedId } from "./export-specs";
import { paths } from "./paths";
import type { OperationContext } from "./transport";

export type ReplicationView = z.output<typeof ReplicationReply>;
type SourceMetadata = z.input<typeof ReplicationCreateBody>["metadata"];

export interface ReplicationSpec {
  name?: string | undefined;
  /** Exactly one of the two: a volume, or a volume group (its members replicate at one instant). */
  volume?: string | undefined;
  volumeGroup?: string | undefined;
  target: ReplicationPeer;
  targetPool: string;
  rpoSeconds?: number | null | undefined;
  rateLimitBytesPerSecond?: number | null | undefined;
}

/** Absent keeps; null clears. */
export interface ReplicationSettings {
  name?: string | null | undefined;
  rpoSeconds?: number | null | undefined;
  rateLimitBytesPerSecond?: number | null | undefined;
  /** New credentials or certificate for the same target URL. */
  target?: ReplicationPeer | undefined;
}

export abstract class DplReplicationCalls extends DplCalls {
  async listReplications(): Promise<NamedId[]> {
    const reply = await this.fetch(this.context("list replications"), paths.replications, ReplicationListReply);
    return reply.children.map(([id, name]) => ({ id, name }));
  }

  async getReplication(id: string): Promise<ReplicationView | undefined> {
    const ctx = this.context("read replication", id);
    return this.fetchIfExists(ctx, paths.replication(this.hexId(ctx, id)), ReplicationReply);
  }

  /** On the source: records the relationship here and on the target (which checks its pool). */
  async createReplication(id: string, spec: ReplicationSpec): Promise<ReplicationView> {
    const ctx = this.context("create replication", id);
    const metadata: SourceMetadata = {
      display_name: spec.name, source_volume: spec.volume, source_volume_group: spec.volumeGroup, target: spec.target,
      target_pool_uuid: spec.targetPool, rpo_seconds: spec.rpoSeconds, rate_limit_bytes_per_second: spec.rateLimitBytesPerSecond,
    };
    return this.putReplication(ctx, id, this.body(ctx, ReplicationCreateBody, { metadata }));
  }

  async changeReplication(id: string, settings: ReplicationSettings): Promise<ReplicationView> {
    const ctx = this.context("change replication", id);
    const replicationSettings = {
      display_name: settings.name, rpo_seconds: settings.rpoSeconds, rate_limit_bytes_per_second: settings.rateLimitBytesPerSecond, target: settings.target,
    };
    return this.putReplication(ctx, id, this.body(ctx, ReplicationSettingsBody, { metadata: { replication_settings: replicationSettings } }));
  }

  /** On the source: snapshots and sends now, and waits until the target has published the sync. */
  async syncReplication(id: string): Promise<ReplicationView> {
    return this.operate("sync replication", id, { replication_operation: "sync" });
  }

  /** On the target: the replicas become writable, exportable volumes; syncs into them stop. */
  async promoteReplication(id: string): Promise<ReplicationView> {
    return this.operate("promote replication", id, { replication_operation: "promote" });
  }

  /** On a promoted target: becomes the source toward `oldSource`, which catches up incrementally. */
  async reverseReplication(id: string, oldSource: ReplicationPeer): Promise<ReplicationView> {
    return this.operate("reverse replication", id, { replication_operation: "reverse", peer: oldSource });
  }

  /** Ends the relationship on both servers; the volumes and the replicas stay (the replicas writable). */
  async deleteReplication(id: string): Promise<void> {
    const ctx = this.context("delete replication", id);
    await this.mutate(ctx, { method: "DELETE", path: paths.replication(this.hexId(ctx, id)) }, { notFoundMeansDone: true });
  }

  private operate(operation: string, id: string, metadata: z.input<typeof ReplicationOperationBody>["metadata"]): Promise<ReplicationView> {
    const ctx = this.context(operation, id);
    return this.putReplication(ctx, id, this.body(ctx, ReplicationOperationBody, { metadata }));
  }

  private async putReplication(ctx: OperationContext, id: string, body: unknown): Promise<ReplicationView> {
    const path = paths.replication(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body });
    return this.finalObject(ctx, reply, id, path, ReplicationReply);
  }
}
