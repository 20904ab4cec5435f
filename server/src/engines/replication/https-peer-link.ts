/**
 * The other DPL server of a replication, over its REST API (the wire's route table): HTTPS with
 * the peer's own certificate trusted for that peer only, Basic auth with the credentials the
 * relationship holds. Send streams go up as application/octet-stream from an offset, paced to a
 * rate limit when there is one. A refusal comes back as an EngineError whose code says whose it
 * is to fix: INVALID_REQUEST / NOT_FOUND (the request, or the peer's answer to it), FAILED (the
 * link or the peer broke).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { Agent, request, type Dispatcher } from "undici";
import {
  DPL_ROUTES, ErrorBody, pathOf, ReplicationReply, TransferReply,
  type ReplicationOperationBody, type WireRoute,
} from "@prophetstor/dpl-provider/wire";
import type { z } from "zod";
import type { ReplicaAnnouncement, SyncCommit } from "../../core/commands";
import { EngineError } from "../../core/ports";
import { acceptOperation, commitOperation, demoteOperation } from "./peer-operations";
import type { PeerAddress, PeerLink, SharedBase, TransferState } from "../../core/replication-ports";

/** A sync's calls other than the upload answer quickly; a commit receives a whole stream. */
const CALL_TIMEOUT_MS = 60_000;
/** Setting a relationship up answers at once or not at all (a wrong address). */
const SETUP_TIMEOUT_MS = 10_000;
const COMMIT_TIMEOUT_MS = 60 * 60_000;

/** Holds the bytes back so that no more than `bytesPerSecond` pass on average. */
class Pace extends Transform {
  private sent = 0;
  private readonly started = Date.now();

  constructor(private readonly bytesPerSecond: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.sent += chunk.length;
    const due = this.started + (this.sent / this.bytesPerSecond) * 1000;
    setTimeout(() => { done(null, chunk); }, Math.max(0, due - Date.now()));
  }
}

export class HttpsPeerLink implements PeerLink {
  private readonly agents = new Map<string, Agent>();

  private agentFor(peer: PeerAddress): Agent {
    const key = `${peer.url}\n${peer.caCertificate ?? ""}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new Agent({ connect: peer.caCertificate === null ? {} : { ca: peer.caCertificate }, headersTimeout: COMMIT_TIMEOUT_MS, bodyTimeout: COMMIT_TIMEOUT_MS });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private async call<S extends z.ZodType>(
    peer: PeerAddress, method: "GET" | "PUT" | "DELETE", wireRoute: WireRoute, ids: string[], reply: S,
    options: { json?: unknown; bytes?: { body: NodeJS.ReadableStream; length: number }; query?: string; timeoutMs?: number } = {},
  ): Promise<z.output<S>> {
    const url = `${peer.url}${pathOf(wireRoute, ids)}${options.query ?? ""}`;
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${peer.username}:${peer.password}`).toString("base64")}`,
      accept: "application/json",
    };
    let body: Dispatcher.DispatchOptions["body"];
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.bytes !== undefined) {
      headers["content-type"] = "application/octet-stream";
      headers["content-length"] = String(options.bytes.length);
      body = options.bytes.body as Dispatcher.DispatchOptions["body"];
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method, headers, body, dispatcher: this.agentFor(peer),
        signal: AbortSignal.timeout(options.timeoutMs ?? CALL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new EngineError("FAILED", `could not reach ${peer.url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.body.text();
    if (response.statusCode >= 400) throw refusalOf(peer.url, response.statusCode, text);
    const parsed = reply.safeParse(JSON.parse(text));
    if (!parsed.success) throw new EngineError("FAILED", `${peer.url} answered ${method} ${wireRoute.path} with an unexpected body`);
    return parsed.data;
  }

  private operation(peer: PeerAddress, replicationId: string, metadata: ReplicationOperationBody["metadata"], timeoutMs?: number) {
    return this.call(peer, "PUT", DPL_ROUTES.replication, [replicationId], ReplicationReply, { json: { metadata }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  async accept(peer: PeerAddress, replicationId: string, replica: ReplicaAnnouncement): Promise<void> {
    await this.operation(peer, replicationId, acceptOperation(replica), SETUP_TIMEOUT_MS);
  }

  async transferState(peer: PeerAddress, replicationId: string, snapshotId: string): Promise<TransferState> {
    const state = await this.call(peer, "GET", DPL_ROUTES.replicationTransfer, [replicationId, snapshotId], TransferReply);
    return { receivedBytes: state.received_bytes, writtenBytes: state.written_bytes };
  }

  async upload(peer: PeerAddress, replicationId: string, snapshotId: string, file: string, offset: number, rateLimit: number | null): Promise<number> {
    const length = (await stat(file)).size - offset;
    const source = createReadStream(file, { start: offset, highWaterMark: 256 * 1024 });
    const body = rateLimit === null ? source : source.pipe(new Pace(rateLimit));
    await this.call(peer, "PUT", DPL_ROUTES.replicationTransfer, [replicationId, snapshotId], TransferReply, {
      bytes: { body, length }, query: `?offset=${offset}`, timeoutMs: COMMIT_TIMEOUT_MS,
    });
    return length;
  }

  async commit(peer: PeerAddress, replicationId: string, commit: SyncCommit): Promise<void> {
    await this.operation(peer, replicationId, commitOperation(commit), COMMIT_TIMEOUT_MS);
  }

  async demote(peer: PeerAddress, replicationId: string, bases: SharedBase[]): Promise<{ poolId: string }> {
    const reply = await this.operation(peer, replicationId, demoteOperation(bases));
    return { poolId: reply.metadata.pool_uuid };
  }

  async release(peer: PeerAddress, replicationId: string): Promise<void> {
    await this.call(peer, "DELETE", DPL_ROUTES.replication, [replicationId], ReplicationReply).catch((error: unknown) => {
      // Already gone there: released.
      if (!(error instanceof EngineError && error.code === "NOT_FOUND")) throw error;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.close()));
  }
}

/** A peer's 4xx/5xx as an engine error: rejected credentials, not found, the request's fault or the peer's. */
export function refusalOf(url: string, status: number, text: string): EngineError {
  let detail = text.slice(0, 200);
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) detail = `${parsed.data.error.code}: ${parsed.data.error.message}`;
  } catch {
    // Not JSON: the start of the text says enough.
  }
  if (status === 401) return new EngineError("INVALID_REQUEST", `${url} rejected the credentials`);
  if (status === 404) return new EngineError("NOT_FOUND", `${url} answered ${status}: ${detail}`);
  return new EngineError(status >= 500 ? "FAILED" : "INVALID_REQUEST", `${url} answered ${status}: ${detail}`);
}
