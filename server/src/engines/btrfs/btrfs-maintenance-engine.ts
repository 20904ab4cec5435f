/**
 * PoolMaintenanceEngine on btrfs: scrub (checksums + the redundant copy repair bad blocks),
 * out-of-band dedupe with duperemove (FIDEDUPERANGE: the kernel compares the bytes under its
 * locks, so volumes may be written meanwhile), and compression accounting with compsize.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CompressionUsage, DedupeOutcome, PoolMaintenanceEngine, ProgressReporter, ScrubOutcome } from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";
import { runCommandStreaming } from "../streaming-command";

/** Where the pools are mounted: the pool engine knows its own layout. */
export interface PoolPaths {
  mountPoint(poolId: string): string;
}

export interface BtrfsMaintenanceEngineOptions {
  pools: PoolPaths;
  /** duperemove's hash files go to `<stateDir>/dedupe/` while a dedupe runs. */
  stateDir: string;
  /** How often a running scrub's counters are read for progress. */
  scrubPollMs?: number;
}

const LONG_JOB_MS = 24 * 60 * 60_000;

/** `btrfs scrub … -R` raw counters, summed over every device listed. */
export function parseScrubCounters(output: string): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const match of output.matchAll(/^\s*(\w+):\s+(\d+)\s*$/gm)) {
    const [, key, value] = match;
    if (key !== undefined && value !== undefined) counters[key] = (counters[key] ?? 0) + Number(value);
  }
  return counters;
}

function scrubOutcome(counters: Record<string, number>): ScrubOutcome {
  const at = (key: string): number => counters[key] ?? 0;
  return {
    bytesScrubbed: at("data_bytes_scrubbed") + at("tree_bytes_scrubbed"),
    csumErrors: at("csum_errors"),
    readErrors: at("read_errors"),
    verifyErrors: at("verify_errors"),
    superErrors: at("super_errors"),
    correctedErrors: at("corrected_errors"),
    uncorrectableErrors: at("uncorrectable_errors"),
  };
}

/** compsize -b: `TOTAL  <perc>  <disk usage>  <uncompressed>  <referenced>`. */
export function parseCompsizeTotal(output: string): CompressionUsage | undefined {
  const match = /^TOTAL\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(output);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const diskBytes = Number(match[1]);
  return diskBytes === 0 ? undefined : { diskBytes, uncompressedBytes: Number(match[2]) };
}

/**
 * duperemove's progress: `[i/n] (p%) csum: …` while hashing files (first half of the job), then
 * `(k/m) Try to dedupe …` per duplicate set (second half).
 */
export function dedupeProgressOf(line: string): { fraction: number; filesScanned?: number } | undefined {
  const hashing = /^\[(\d+)\/(\d+)\]\s+\(([\d.]+)%\)/.exec(line);
  if (hashing?.[1] !== undefined && hashing[3] !== undefined) return { fraction: 0.5 * (Number(hashing[3]) / 100), filesScanned: Number(hashing[1]) };
  const deduping = /\((\d+)\/(\d+)\) Try to dedupe/.exec(line);
  if (deduping?.[1] !== undefined && deduping[2] !== undefined && Number(deduping[2]) > 0) return { fraction: 0.5 + 0.5 * (Number(deduping[1]) / Number(deduping[2])) };
  return undefined;
}

/**
 * duperemove exits non-zero when no file has anything to hash (a pool without volumes, or only
 * unwritten ones): for a pool that is a finished dedupe that shared nothing, not a failure.
 */
export function foundNoDedupeCandidates(error: unknown): boolean {
  return error instanceof CommandFailedError && /no dedupe candidates found/i.test(`${error.stderr}${error.stdout}`);
}

export class BtrfsMaintenanceEngine implements PoolMaintenanceEngine {
  private readonly scrubPollMs: number;

  constructor(private readonly options: BtrfsMaintenanceEngineOptions) {
    this.scrubPollMs = options.scrubPollMs ?? 300;
  }

  async scrub(poolId: string, progress: ProgressReporter): Promise<ScrubOutcome> {
    const mountPoint = this.options.pools.mountPoint(poolId);
    // Scrub reads every allocated copy: the devices' used bytes are the work to do.
    const toScrub = Math.max(1, await this.deviceUsedBytes(mountPoint));
    const scrubEnded = new AbortController();
    const poll = (async () => {
      for (;;) {
        try {
          await sleep(this.scrubPollMs, undefined, { signal: scrubEnded.signal });
        } catch {
          return; // aborted: the scrub has ended
        }
        const status = await runCommand("btrfs", ["scrub", "status", "-R", mountPoint]).catch(() => undefined);
        if (status !== undefined) progress(Math.min(0.99, scrubOutcome(parseScrubCounters(status.stdout)).bytesScrubbed / toScrub));
      }
    })();
    try {
      const { stdout } = await runCommand("btrfs", ["scrub", "start", "-B", "-R", mountPoint], { timeoutMs: LONG_JOB_MS }).catch((error: unknown) => {
        // Exit 3: uncorrectable errors were found; the counters are still complete.
        if (error instanceof CommandFailedError && error.exitCode === 3 && error.stdout !== "") return { stdout: error.stdout };
        throw error;
      });
      return scrubOutcome(parseScrubCounters(stdout));
    } finally {
      scrubEnded.abort();
      await poll;
    }
  }

  async dedupe(poolId: string, progress: ProgressReporter): Promise<DedupeOutcome> {
    const mountPoint = this.options.pools.mountPoint(poolId);
    const hashDir = path.join(this.options.stateDir, "dedupe");
    await mkdir(hashDir, { recursive: true, mode: 0o700 });
    const hashFile = path.join(hashDir, `${poolId}-${randomUUID()}.hash`);
    const usedBytesBefore = await this.dataUsedBytes(mountPoint);
    let filesScanned = 0;
    try {
      await runCommandStreaming("duperemove", ["-d", "-r", `--hashfile=${hashFile}`, path.join(mountPoint, "volumes")], {
        timeoutMs: LONG_JOB_MS,
        onLine: (line) => {
          const seen = dedupeProgressOf(line);
          if (seen === undefined) return;
          if (seen.filesScanned !== undefined) filesScanned = Math.max(filesScanned, seen.filesScanned);
          progress(Math.min(0.99, seen.fraction));
        },
      }).catch((error: unknown) => {
        if (!foundNoDedupeCandidates(error)) throw error;
      });
    } finally {
      await rm(hashFile, { force: true });
    }
    return { usedBytesBefore, usedBytesAfter: await this.dataUsedBytes(mountPoint), filesScanned };
  }

  async compressionUsage(poolId: string, volumeId?: string): Promise<CompressionUsage | undefined> {
    const mountPoint = this.options.pools.mountPoint(poolId);
    const target = volumeId === undefined ? path.join(mountPoint, "volumes") : path.join(mountPoint, "volumes", volumeId);
    // Data still in the page cache is not compressed yet: count what is on disk after a commit.
    await runCommand("btrfs", ["filesystem", "sync", mountPoint]);
    try {
      const { stdout } = await runCommand("compsize", ["-b", target]);
      return parseCompsizeTotal(stdout);
    } catch (error) {
      // compsize exits non-zero when no file has an extent yet (a new, unwritten volume).
      if (error instanceof CommandFailedError && /no files|0 regular extents/i.test(`${error.stderr}${error.stdout}`)) return undefined;
      throw error;
    }
  }

  /** Logical data bytes stored (after a commit, so freed extents are counted as freed). */
  private async dataUsedBytes(mountPoint: string): Promise<number> {
    await runCommand("btrfs", ["filesystem", "sync", mountPoint]);
    const { stdout } = await runCommand("btrfs", ["filesystem", "usage", "-b", mountPoint]);
    let used = 0;
    for (const match of stdout.matchAll(/^Data,[^:]+:\s+Size:\d+, Used:(\d+)/gm)) used += Number(match[1]);
    return used;
  }

  private async deviceUsedBytes(mountPoint: string): Promise<number> {
    const { stdout } = await runCommand("btrfs", ["filesystem", "usage", "-b", mountPoint]);
    const used = /^\s+Used:\s+(\d+)/m.exec(stdout);
    return Number(used?.[1] ?? 0);
  }
}
