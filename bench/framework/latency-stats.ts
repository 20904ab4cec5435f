/** Latency samples in milliseconds and the summary figures the tables print. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (no interpolation: every reported figure is one that was measured). */
export function percentile(sortedAscending: readonly number[], fraction: number): number {
  if (sortedAscending.length === 0) throw new Error("percentile of no samples");
  const rank = Math.min(sortedAscending.length, Math.max(1, Math.ceil(fraction * sortedAscending.length)));
  return sortedAscending[rank - 1] as number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: percentile(sorted, 1),
    mean: total / sorted.length,
  };
}

/** Milliseconds since an origin taken with `process.hrtime.bigint()`. */
export function elapsedMs(origin: bigint): number {
  return Number(process.hrtime.bigint() - origin) / 1e6;
}

/** Runs `operation` and returns its duration in milliseconds with its result. */
export async function timed<T>(operation: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const origin = process.hrtime.bigint();
  const result = await operation();
  return { ms: elapsedMs(origin), result };
}

/** Repeats a timed operation; `between` runs untimed after each (cleanup of what it made). */
export async function sampleLatency(
  repetitions: number,
  operation: (index: number) => Promise<unknown>,
  between?: (index: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const origin = process.hrtime.bigint();
    await operation(i);
    samples.push(elapsedMs(origin));
    if (between !== undefined) await between(i);
  }
  return samples;
}
