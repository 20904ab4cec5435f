import { z } from "zod";
import { Envelope } from "./envelope";
import { HexId } from "./ids";

/** One direction (read or write): totals since the server began counting, and rates over the window. */
export const IoDirectionStats = z.object({
  /** Commands (volume: SCSI commands carrying data that way) or block I/Os (pool) completed. */
  ops: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Over window_seconds; null until two samples exist. */
  ops_per_second: z.number().nonnegative().nullable(),
  bytes_per_second: z.number().nonnegative().nullable(),
  /** Average time per I/O over the window; null where the engine does not measure it, or no I/O ran. */
  average_latency_ms: z.number().nonnegative().nullable(),
});
export type IoDirectionStats = z.infer<typeof IoDirectionStats>;

/**
 * `GET /v1/dpl_pool/<pool>/stats/` and `GET /v1/dpl_volume/<vol>/stats/` (this server's
 * extension; DPL's monitoring calls are unknown). Pools count the block I/O of their devices
 * (what btrfs sends: mirrored writes count on each device, metadata included); volumes count the
 * SCSI commands their iSCSI initiators sent, from tgtd's per-session counters.
 */
export const IoStatsReply = Envelope.extend({
  metadata: z.object({
    type: z.enum(["pool", "volume"]),
    object_uuid: HexId,
    /** When the newest sample was taken (ms since the epoch). */
    sampled_at: z.number(),
    /** Between the two samples the rates come from; null until there are two. */
    window_seconds: z.number().positive().nullable(),
    read: IoDirectionStats,
    write: IoDirectionStats,
    /** Volumes: commands tgtd answered with an error. Pools: 0 (see the device error counters). */
    errors: z.number().int().nonnegative(),
    /** Where the latency comes from, or why there is none. */
    latency_source: z.string(),
  }),
});
export type IoStatsReply = z.infer<typeof IoStatsReply>;
