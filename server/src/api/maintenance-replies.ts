/** Adds what the maintenance service knows (compression ratio, last scrub and dedupe, the schedule) to replies. */
import type { PoolReply, VolumeReply } from "@prophetstor/dpl-provider/wire";
import type { DplCore } from "../core/dpl-core";

export async function withPoolMaintenance(reply: PoolReply, core: DplCore): Promise<PoolReply> {
  if (core.maintenance === undefined) return reply;
  const view = await core.maintenance.view(reply.metadata.pool_uuid);
  return {
    ...reply,
    metadata: {
      ...reply.metadata,
      compression_ratio: view.compressionRatio,
      last_scrub: view.lastScrub,
      last_dedupe: view.lastDedupe,
      maintenance_schedule: view.schedule,
      next_scrub_at: view.nextScrubAt,
      next_dedupe_at: view.nextDedupeAt,
    },
  };
}

export async function withVolumeCompression(reply: VolumeReply, core: DplCore): Promise<VolumeReply> {
  if (core.maintenance === undefined) return reply;
  const ratio = await core.maintenance.volumeCompressionRatio(reply.objectID);
  return { ...reply, metadata: { ...reply.metadata, compression_ratio: ratio } };
}
