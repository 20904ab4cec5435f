/**
 * Starts each source relationship's sync when its RPO says so (the last synced snapshot is that
 * old), and at once when a transfer is pending (a sync cut short by a restart or a lost link
 * resumes). A sync that failed is retried after a pause rather than every tick.
 */
import type { CoreContext } from "./context";
import { PeriodicTick } from "./periodic-tick";
import type { ReplicationService } from "./replication-service";

const RETRY_AFTER_FAILURE_MS = 15_000;

export class ReplicationScheduler {
  private readonly ticker: PeriodicTick;
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly replications: ReplicationService,
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

  /** Whether a source relationship is due now. */
  static isDue(record: { pendingSnapshotTime: number | null; rpoSeconds: number | null; lastSnapshotTime: number | null }, now: number): boolean {
    if (record.pendingSnapshotTime !== null) return true;
    if (record.rpoSeconds === null) return false;
    return record.lastSnapshotTime === null || now - record.lastSnapshotTime >= record.rpoSeconds * 1000;
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const record of this.ctx.store.listReplications()) {
      if (!this.ticker.running) return;
      if (record.role !== "source" || this.replications.isSyncing(record.id) || !ReplicationScheduler.isDue(record, now)) continue;
      const failed = this.failedAt.get(record.id);
      if (failed !== undefined && now - failed < RETRY_AFTER_FAILURE_MS) continue;
      try {
        const job = await this.replications.sync(record.id);
        if (job.reused) continue;
        void job.done.then((finished) => {
          if (finished.status === "Error") this.failedAt.set(record.id, Date.now());
          else this.failedAt.delete(record.id);
        });
      } catch (e) {
        this.failedAt.set(record.id, now);
        this.ctx.log(`scheduled sync of replication ${record.id} could not start: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
