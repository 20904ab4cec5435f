/**
 * A tick every `tickMs` that never overlaps itself (a slow tick makes the next ones wait) and
 * never keeps the process alive on its own. The schedulers of maintenance and replication run on it.
 */
export class PeriodicTick {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly tickMs: number,
    private readonly tick: () => Promise<void>,
  ) {}

  /** False once halted: a tick under way checks it between its steps. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, this.tickMs);
    this.timer.unref();
  }

  /** No new tick starts after this; what a tick started finishes as jobs do. */
  halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.ticking;
  }
}
