/**
 * tgtd keeps its targets only in memory. The watchdog checks it every second; when it has died
 * it is started again and every export re-applied, so initiators can log in again within seconds.
 */
import type { CoreContext } from "./context";
import type { ExportService } from "./export-service";

export class TargetWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  restarts = 0;

  constructor(
    private readonly ctx: CoreContext,
    private readonly exportService: ExportService,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.checking) await new Promise((r) => setTimeout(r, 50));
  }

  private async check(): Promise<void> {
    if (this.checking || this.timer === undefined) return;
    this.checking = true;
    try {
      if (await this.ctx.targetEngine.isAlive()) return;
      this.ctx.log("tgtd is not answering; restarting it and re-applying every export");
      await this.ctx.targetEngine.start();
      const failed = await this.exportService.reapplyAll();
      this.restarts++;
      this.ctx.log(`tgtd restarted; ${this.ctx.store.listExports().length - failed.length} exports re-applied`);
    } catch (e) {
      this.ctx.log(`tgtd watchdog: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.checking = false;
    }
  }
}
