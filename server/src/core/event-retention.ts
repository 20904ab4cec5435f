/**
 * Keeps the events table bounded: finished events older than the retention are deleted at start
 * and then periodically (every hour, or more often for a retention shorter than two hours).
 */
import type { CoreContext } from "./context";

export const DEFAULT_EVENT_RETENTION_MS = 30 * 24 * 3_600_000;
const MAX_PRUNE_INTERVAL_MS = 3_600_000;

export class EventRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CoreContext) {}

  private get retentionMs(): number {
    return this.ctx.settings.eventRetentionMs ?? DEFAULT_EVENT_RETENTION_MS;
  }

  /** One pass; returns how many events were deleted. */
  prune(now = Date.now()): number {
    const pruned = this.ctx.store.pruneFinishedEvents(now - this.retentionMs);
    if (pruned > 0) this.ctx.log(`pruned ${pruned} events finished more than ${Math.round(this.retentionMs / 1000)} s ago`);
    return pruned;
  }

  start(): void {
    this.prune();
    const interval = Math.max(1_000, Math.min(MAX_PRUNE_INTERVAL_MS, Math.floor(this.retentionMs / 2)));
    this.timer ??= setInterval(() => this.prune(), interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
