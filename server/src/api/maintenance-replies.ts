/** Adds what the maintenance service knows (compression ratio, last scrub and dedupe, the schedule) to replies. */
import type { DedupeResult, PoolReply, ScrubResult, VolumeReply } from "@prophetstor/dpl-provider/wire";
import type { DplCore } from "../core/dpl-core";
import type { DedupeRecord, ScrubRecord } from "../core/records";

function scrubResult(r: ScrubRecord): ScrubResult {
  return {
    started: r.started, finished: r.finished, bytes_scrubbed: r.bytesScrubbed, errors_found: r.errorsFound,
    csum_errors: r.csumErrors, read_errors: r.readErrors, corrected_errors: r.correctedErrors, uncorrectable_errors: r.uncorrectableErrors,
  };
}

function dedupeResult(r: DedupeRecord): DedupeResult {
  return {
    started: r.started, finished: r.finished, used_bytes_before: r.usedBytesBefore, used_bytes_after: r.usedBytesAfter,
    bytes_saved: r.bytesSaved, files_scanned: r.filesScanned,
  };
}

export async function withPoolMaintenance(reply: PoolReply, core: DplCore): Promise<PoolReply> {
  if (core.maintenance === undefined) return reply;
  const view = await core.maintenance.view(reply.metadata.pool_uuid);
  return {
    ...reply,
    metadata: {
      ...reply.metadata,
      compression_ratio: view.compressionRatio,
      last_scrub: view.lastScrub === null ? null : scrubResult(view.lastScrub),
      last_dedupe: view.lastDedupe === null ? null : dedupeResult(view.lastDedupe),
      maintenance_schedule: { scrub_every_seconds: view.schedule.scrubEverySeconds, dedupe_every_seconds: view.schedule.dedupeEverySeconds },
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
