/**
 * Reliability tests run a bounded mode in CI and a long one with DPL_RELIABILITY_FULL=1.
 * Their randomness comes from fixed seeds, so a failure found once is found again.
 */
export const FULL_MODE = process.env.DPL_RELIABILITY_FULL === "1";

/** Picks the CI or the full figure. */
export function byMode<T>(ci: T, full: T): T {
  return FULL_MODE ? full : ci;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; enough for choosing operations reproducibly. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.next() * items.length)];
  }

  /** A 32-hex id drawn from the seed (ids must differ between runs of one seed only by the seed). */
  hexId(): string {
    let id = "";
    while (id.length < 32) id += this.int(0, 0xffff).toString(16).padStart(4, "0");
    return id;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
