/**
 * Fetching an image over http(s) into a file so that a sparse image stays sparse: every 4 KiB
 * block of zeros is skipped (a hole), runs of data blocks are written with one positioned write,
 * and the file is truncated to the full length at the end. A qcow2 header is read with a range
 * request, so the virtual size is known before anything is fetched.
 */
import { open, rm } from "node:fs/promises";
import { fetch, type Response } from "undici";
import type { ImageFacts, ProgressReporter, DownloadOutcome } from "../../core/ports";
import { UnusableImageError } from "../../core/ports";
import type { UrlGuard } from "./url-guard";

/** btrfs's sector size: the smallest hole it keeps. */
const BLOCK = 4096;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** How long a silent server may keep us waiting for headers or the next chunk. */
const STALL_TIMEOUT_MS = 60_000;
/** The longest a whole download may take unless the server is told otherwise. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 6 * 3_600_000;

export interface DownloadLimits {
  guard: UrlGuard;
  /** More bytes than this (after any content coding is undone) fail the download at once. */
  maxBytes: number;
  /** Silence allowed between chunks (the timer restarts with each one). */
  idleMs?: number | undefined;
  /** The whole download's limit. */
  overallMs?: number | undefined;
}

class DownloadTimeout extends Error {}

/**
 * An abort signal for one download: it fires when no chunk came for `idleMs`, or when the whole
 * download outlived `overallMs`. `touch()` restarts the idle timer; `clear()` ends both.
 */
function downloadDeadlines(idleMs: number, overallMs: number): { signal: AbortSignal; touch(): void; clear(): void } {
  const controller = new AbortController();
  const overall = setTimeout(() => { controller.abort(new DownloadTimeout(`the download took longer than ${overallMs / 1000} s`)); }, overallMs);
  let idle: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => { controller.abort(new DownloadTimeout(`no data for ${idleMs / 1000} s`)); }, idleMs);
  };
  touch();
  return { signal: controller.signal, touch, clear: () => { clearTimeout(idle); clearTimeout(overall); } };
}

const QCOW2_MAGIC = 0x514649fb;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

function describeFailure(url: string, error: unknown, signal?: AbortSignal): UnusableImageError {
  if (signal?.aborted === true && signal.reason instanceof DownloadTimeout) return new UnusableImageError(`could not fetch ${url}: ${signal.reason.message}`);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new UnusableImageError(`could not fetch ${url}: ${cause ?? message}`);
}

/**
 * One answer for every fetch that is refused or fails before an image arrives (a host not
 * allowed, no route, refused, a timeout, a 4xx/5xx): otherwise imports would be a port scanner
 * telling closed from filtered from open from "404".
 */
function neutralFailure(url: string): UnusableImageError {
  return new UnusableImageError(`could not fetch ${url}: the host may not be reached from this server, did not answer, or did not serve an image there`);
}

interface GetOptions {
  guard: UrlGuard;
  headers?: Record<string, string>;
  method?: "GET" | "HEAD";
  signal?: AbortSignal;
}

/**
 * A GET or HEAD that answers 200 or 206, following redirects by hand: every hop's host is checked
 * and its connection pinned to the checked address.
 */
async function get(url: string, options: GetOptions): Promise<Response> {
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      const pinned = await options.guard.pin(target);
      response = await fetch(target, {
        method: options.method ?? "GET", headers: options.headers ?? {}, redirect: "manual",
        signal: options.signal ?? AbortSignal.timeout(STALL_TIMEOUT_MS), dispatcher: pinned.dispatcher,
      });
      // Closing waits for this response's body; nothing else uses the pinned dispatcher.
      void pinned.dispatcher.close();
    } catch {
      throw neutralFailure(url);
    }
    const location = response.headers.get("location");
    if (REDIRECTS.has(response.status) && location !== null && hop < MAX_REDIRECTS) {
      await response.body?.cancel().catch(() => undefined);
      target = new URL(location, target);
      continue;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel().catch(() => undefined);
      throw neutralFailure(url);
    }
    return response;
  }
}

/** The qcow2 header fields that matter here (QEMU's qcow2 specification, big-endian). */
export function qcow2Header(head: Buffer): { virtualSize: number; backingFileOffset: bigint } | undefined {
  if (head.length < 32 || head.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
  return { backingFileOffset: head.readBigUInt64BE(8), virtualSize: Number(head.readBigUInt64BE(24)) };
}

export async function inspectUrlImage(url: string, declared: ImageFacts["format"], guard: UrlGuard): Promise<ImageFacts> {
  if (declared === "raw") return { format: "raw", virtualSize: await rawLength(url, guard) };
  const response = await get(url, { guard, headers: { range: "bytes=0-511" } });
  const head = await readPrefix(response, 512);
  const header = qcow2Header(head);
  if (header === undefined) throw new UnusableImageError(`${url} is not a qcow2 image (no qcow2 header)`, "format");
  if (header.backingFileOffset !== 0n) throw new UnusableImageError(`${url} is a qcow2 image with a backing file; only self-contained images are imported`);
  return { format: "qcow2", virtualSize: header.virtualSize };
}

/**
 * A raw image's size is its length: HEAD's Content-Length, or (a server that compresses on the fly
 * sends none) the total of a one-byte range request's Content-Range.
 */
async function rawLength(url: string, guard: UrlGuard): Promise<number> {
  const head = await get(url, { guard, headers: { "accept-encoding": "identity" }, method: "HEAD" });
  const length = Number(head.headers.get("content-length") ?? Number.NaN);
  if (head.headers.get("content-encoding") === null && Number.isSafeInteger(length) && length > 0) return length;
  const probe = await get(url, { guard, headers: { range: "bytes=0-0", "accept-encoding": "identity" } });
  await probe.body?.cancel().catch(() => undefined);
  const total = Number(/\/(\d+)\s*$/.exec(probe.headers.get("content-range") ?? "")?.[1] ?? Number.NaN);
  if (probe.status === 206 && Number.isSafeInteger(total) && total > 0) return total;
  throw new UnusableImageError(`${url} did not report the image's size (no Content-Length on HEAD, no Content-Range on a range request); a raw image's size is its length`);
}

/** The first `bytes` of a body (a server that ignores Range sends all of it: the rest is dropped). */
async function readPrefix(response: Response, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const body = response.body as AsyncIterable<Uint8Array> | null;
  if (body === null) return Buffer.alloc(0);
  for await (const chunk of body) {
    chunks.push(Buffer.from(chunk));
    total += chunk.byteLength;
    // Leaving the loop early cancels the rest of the body.
    if (total >= bytes) break;
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** Writes a stream to a new file at `destination`, zero blocks as holes; removes the file on failure. */
export async function downloadSparse(url: string, destination: string, progress: ProgressReporter, limits: DownloadLimits): Promise<DownloadOutcome> {
  const deadlines = downloadDeadlines(limits.idleMs ?? STALL_TIMEOUT_MS, limits.overallMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS);
  try {
    return await fetchSparse(url, destination, progress, limits, deadlines);
  } finally {
    deadlines.clear();
  }
}

async function fetchSparse(
  url: string, destination: string, progress: ProgressReporter, limits: DownloadLimits, deadlines: { signal: AbortSignal; touch(): void },
): Promise<DownloadOutcome> {
  const { maxBytes, guard } = limits;
  // Content codings stay welcome here (a compressing server sends zero runs almost for free): the
  // cap counts decoded bytes. Only the size probes ask for identity, where the length must be the image's.
  const response = await get(url, { guard, signal: deadlines.signal });
  // With a content coding (gzip from a server that compresses zero runs) the length is the coded one.
  const coded = response.headers.get("content-encoding") !== null;
  const expected = coded ? Number.NaN : Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(expected) && expected > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new UnusableImageError(`${url} is ${expected} bytes long, more than the ${maxBytes} admitted`);
  }
  const file = await open(destination, "wx", 0o600);
  let position = 0;
  let bytesWritten = 0;
  // Bytes not yet a whole block (chunks arrive at any length).
  let pending = Buffer.alloc(0);
  let reportedPercent = 0;
  const writeBlocks = async (buffer: Buffer): Promise<void> => {
    let runStart = -1;
    const flush = async (end: number): Promise<void> => {
      if (runStart < 0) return;
      const run = buffer.subarray(runStart, end);
      await file.write(run, 0, run.length, position + runStart);
      bytesWritten += run.length;
      runStart = -1;
    };
    for (let offset = 0; offset < buffer.length; offset += BLOCK) {
      const block = buffer.subarray(offset, Math.min(offset + BLOCK, buffer.length));
      const zero = block.length === BLOCK ? block.equals(ZERO_BLOCK) : block.every((byte) => byte === 0);
      if (zero) await flush(offset);
      else if (runStart < 0) runStart = offset;
    }
    await flush(buffer.length);
    position += buffer.length;
  };
  try {
    const body = response.body;
    if (body === null) throw new UnusableImageError(`${url} sent no body`);
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      deadlines.touch();
      if (Number.isFinite(expected) && position + pending.length + chunk.byteLength > expected) {
        throw new UnusableImageError(`${url} sent more than the ${expected} bytes it declared`);
      }
      if (position + pending.length + chunk.byteLength > maxBytes) {
        // Leaving the loop cancels the body: the rest is never received.
        throw new UnusableImageError(`${url} sent more than the ${maxBytes} bytes admitted for the image`);
      }
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      const whole = pending.length - (pending.length % BLOCK);
      if (whole > 0) {
        await writeBlocks(pending.subarray(0, whole));
        pending = pending.subarray(whole);
      }
      if (Number.isFinite(expected) && expected > 0) {
        // Whole percents only: each report is a synchronous metadata write.
        const percent = Math.floor((100 * (position + pending.length)) / expected);
        if (percent > reportedPercent && percent < 100) {
          reportedPercent = percent;
          progress(percent / 100);
        }
      }
    }
    if (pending.length > 0) await writeBlocks(pending);
    if (Number.isFinite(expected) && position !== expected) {
      throw new UnusableImageError(`${url} ended after ${position} of ${expected} bytes`);
    }
    await file.truncate(position);
    await file.sync();
    await file.close();
    return { bytesReceived: position, bytesWritten };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(destination, { force: true });
    throw error instanceof UnusableImageError ? error : describeFailure(url, error, deadlines.signal);
  }
}
