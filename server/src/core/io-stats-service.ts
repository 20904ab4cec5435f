/**
 * I/O statistics of pools and volumes, from periodic samples of the engines' counters.
 *
 * Pools: the kernel's block counters of the pool's devices (ops, bytes, time spent), so IOPS,
 * bytes/s and average latency follow from two samples. Volumes: tgtd counts completed commands
 * and bytes per LUN and session but forgets a session's counts when it logs out, so the service
 * samples every few seconds and adds each session's growth to its volume's running totals (I/O of
 * a session that ends between two samples is lost after its last sample). tgtd measures no
 * service time: volumes have no latency.
 */
import type { CoreContext } from "./context";
import { notFound } from "./domain-error";
import type { BlockIoCounters, LunSessionCounters } from "./ports";

export interface IoTotals {
  readOps: number;
  readBytes: number;
  writeOps: number;
  writeBytes: number;
  /** Pools only: time the device I/O took, summed (ms). */
  readMs: number;
  writeMs: number;
  errors: number;
}

export interface IoRates {
  readOpsPerSecond: number;
  readBytesPerSecond: number;
  writeOpsPerSecond: number;
  writeBytesPerSecond: number;
  readLatencyMs: number | null;
  writeLatencyMs: number | null;
}

export interface IoStatsView {
  kind: "pool" | "volume";
  id: string;
  sampledAt: number;
  totals: IoTotals;
  /** Over windowSeconds; null until two samples at least a second apart exist, or after a counter restart. */
  rates: IoRates | null;
  windowSeconds: number | null;
  latencySource: string;
}

export interface IoSample {
  at: number;
  pools: Map<string, IoTotals>;
  /** Only volumes that have had I/O since the server started; any other volume's totals are zero. */
  volumes: Map<string, IoTotals>;
}

/** Rates come from samples at least this far apart. */
const MIN_WINDOW_MS = 1_000;
const HISTORY_MS = 120_000;
export const DEFAULT_IO_SAMPLE_INTERVAL_MS = 5_000;

const POOL_LATENCY_SOURCE = "block device counters (/sys/block/<dev>/stat): time spent per completed I/O";
const VOLUME_LATENCY_SOURCE = "none: tgtd counts commands and bytes per session but not their service time";

function emptyTotals(): IoTotals {
  return { readOps: 0, readBytes: 0, writeOps: 0, writeBytes: 0, readMs: 0, writeMs: 0, errors: 0 };
}

function fromBlock(counters: BlockIoCounters): IoTotals {
  return { ...counters, errors: 0 };
}

const sessionKey = (c: LunSessionCounters): string => `${c.tid}:${c.lun}:${c.sid}`;

function sessionGrowth(now: LunSessionCounters, before: LunSessionCounters | undefined): IoTotals {
  // A key seen again with smaller counts is a new session reusing the id (tgtd restarted).
  const base = before !== undefined && now.readOps >= before.readOps && now.writeOps >= before.writeOps ? before : undefined;
  return {
    readOps: now.readOps - (base?.readOps ?? 0),
    readBytes: now.readBytes - (base?.readBytes ?? 0),
    writeOps: now.writeOps - (base?.writeOps ?? 0),
    writeBytes: now.writeBytes - (base?.writeBytes ?? 0),
    readMs: 0,
    writeMs: 0,
    errors: now.errors - (base?.errors ?? 0),
  };
}

function added(a: IoTotals, b: IoTotals): IoTotals {
  return {
    readOps: a.readOps + b.readOps, readBytes: a.readBytes + b.readBytes, writeOps: a.writeOps + b.writeOps,
    writeBytes: a.writeBytes + b.writeBytes, readMs: a.readMs + b.readMs, writeMs: a.writeMs + b.writeMs, errors: a.errors + b.errors,
  };
}

function ratesBetween(now: IoTotals, before: IoTotals, seconds: number, withLatency: boolean): IoRates | null {
  const d = {
    readOps: now.readOps - before.readOps, readBytes: now.readBytes - before.readBytes, readMs: now.readMs - before.readMs,
    writeOps: now.writeOps - before.writeOps, writeBytes: now.writeBytes - before.writeBytes, writeMs: now.writeMs - before.writeMs,
  };
  if (Object.values(d).some((v) => v < 0)) return null;
  const latency = (ms: number, ops: number): number | null => (withLatency && ops > 0 ? ms / ops : null);
  return {
    readOpsPerSecond: d.readOps / seconds,
    readBytesPerSecond: d.readBytes / seconds,
    writeOpsPerSecond: d.writeOps / seconds,
    writeBytesPerSecond: d.writeBytes / seconds,
    readLatencyMs: latency(d.readMs, d.readOps),
    writeLatencyMs: latency(d.writeMs, d.writeOps),
  };
}

export class IoStatsService {
  private history: IoSample[] = [];
  private lastSessions = new Map<string, LunSessionCounters>();
  private readonly volumeTotals = new Map<string, IoTotals>();
  private sampling: Promise<IoSample> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CoreContext) {}

  /** Samples every `intervalMs` so that sessions' counts are caught before they log out. */
  start(intervalMs = DEFAULT_IO_SAMPLE_INTERVAL_MS): void {
    this.timer ??= setInterval(() => {
      this.sample().catch((e: unknown) => {
        this.ctx.log(`I/O statistics sample: ${e instanceof Error ? e.message : String(e)}`);
      });
    }, intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async pool(id: string): Promise<IoStatsView> {
    if (this.ctx.store.getPool(id) === undefined) throw notFound("pool", id);
    return this.view("pool", id, await this.freshSample(), POOL_LATENCY_SOURCE);
  }

  async volume(id: string): Promise<IoStatsView> {
    if (this.ctx.store.getVolume(id) === undefined) throw notFound("volume", id);
    return this.view("volume", id, await this.freshSample(), VOLUME_LATENCY_SOURCE);
  }

  /** Current totals of every pool and volume (for /metrics). */
  async all(): Promise<IoSample> {
    return this.freshSample();
  }

  private view(kind: "pool" | "volume", id: string, newest: IoSample, latencySource: string): IoStatsView {
    // A volume without I/O has no entry (samples stay small with 10,000s of volumes): it counts as zero.
    const pick = (sample: IoSample): IoTotals | undefined => (kind === "pool" ? sample.pools.get(id) : sample.volumes.get(id) ?? emptyTotals());
    const totals = pick(newest) ?? emptyTotals();
    const previous = [...this.history].reverse().find((s) => newest.at - s.at >= MIN_WINDOW_MS && pick(s) !== undefined);
    const before = previous === undefined ? undefined : pick(previous);
    const seconds = previous === undefined ? null : (newest.at - previous.at) / 1000;
    const rates = before === undefined || seconds === null ? null : ratesBetween(totals, before, seconds, kind === "pool");
    return { kind, id, sampledAt: newest.at, totals, rates, windowSeconds: rates === null ? null : seconds, latencySource };
  }

  /** The newest sample when it is under a second old, else a new one. */
  private async freshSample(): Promise<IoSample> {
    const newest = this.history.at(-1);
    if (newest !== undefined && Date.now() - newest.at < MIN_WINDOW_MS) return newest;
    return this.sample();
  }

  private sample(): Promise<IoSample> {
    this.sampling ??= this.takeSample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async takeSample(): Promise<IoSample> {
    const pools = new Map<string, IoTotals>();
    for (const pool of this.ctx.store.listPools()) {
      if (pool.state !== "available") continue;
      const counters = await this.ctx.poolEngine.ioCounters(pool.id).catch(() => undefined);
      if (counters !== undefined) pools.set(pool.id, fromBlock(counters));
    }
    await this.addSessionGrowth();
    const volumes = new Map<string, IoTotals>();
    for (const [volumeId, totals] of this.volumeTotals) {
      if (this.ctx.store.getVolume(volumeId) === undefined) this.volumeTotals.delete(volumeId);
      else volumes.set(volumeId, { ...totals });
    }
    const sample: IoSample = { at: Date.now(), pools, volumes };
    this.history = [...this.history.filter((s) => sample.at - s.at <= HISTORY_MS), sample];
    return sample;
  }

  private async addSessionGrowth(): Promise<void> {
    let sessions: LunSessionCounters[];
    try {
      sessions = await this.ctx.targetEngine.ioCounters();
    } catch {
      return; // tgtd down: the watchdog restarts it; the sessions' counts since the last sample are gone.
    }
    const volumeOfTarget = new Map(this.ctx.store.listExports().map((e) => [`${e.tid}:${e.lun}`, e.volumeId]));
    const seen = new Map<string, LunSessionCounters>();
    for (const session of sessions) {
      const key = sessionKey(session);
      seen.set(key, session);
      const volumeId = volumeOfTarget.get(`${session.tid}:${session.lun}`);
      if (volumeId === undefined) continue;
      this.volumeTotals.set(volumeId, added(this.volumeTotals.get(volumeId) ?? emptyTotals(), sessionGrowth(session, this.lastSessions.get(key))));
    }
    this.lastSessions = seen;
  }
}
