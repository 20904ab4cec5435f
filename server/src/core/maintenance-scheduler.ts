/**
 * Runs each pool's scheduled scrub and dedupe when due. A tick every few seconds reads the
 * schedules and the last runs from the store (nothing is kept only in memory, so a restart
 * resumes the same plan), and starts due runs through the maintenance service, whose job locking
 * never lets two of a kind run at once. Pools that are not available are skipped until they are.
 */
import type { CoreContext } from "./context";
import { PeriodicTick } from "./periodic-tick";
import type { PoolMaintenanceService } from "./pool-maintenance-service";

export class MaintenanceScheduler {
  private readonly ticker: PeriodicTick;
  /** Runs refused at start (no event records them): retried one tick interval later, not every tick. */
  private readonly refusedAt = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly maintenance: PoolMaintenanceService,
    tickMs = 1000,
  ) {
    this.ticker = new PeriodicTick(tickMs, () => this.tick());
  }

  start(): void {
    this.ticker.start();
  }

  /** No new runs start after this; runs already started finish as jobs do. */
  halt(): void {
    this.ticker.halt();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const due of this.maintenance.dueTimes()) {
      if (!this.ticker.running) return;
      const key = `${due.poolId}:${due.operation}`;
      const refused = this.refusedAt.get(key);
      if (due.running || due.dueAt > now || (refused !== undefined && now - refused < 60_000)) continue;
      if (this.ctx.store.getPool(due.poolId)?.state !== "available") continue;
      try {
        const job = await this.maintenance.start(due.poolId, due.operation);
        this.refusedAt.delete(key);
        if (!job.reused) this.ctx.log(`scheduled ${due.operation} of pool ${due.poolId} started (event ${job.event.id})`);
      } catch (e) {
        this.refusedAt.set(key, now);
        this.ctx.log(`scheduled ${due.operation} of pool ${due.poolId} could not start: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
