/**
 * Replication's two seams in memory, for unit tests of two servers without root: send streams
 * are byte buffers kept beside the pools' files (a stream carries the snapshot's content), and
 * the peer link reaches the other in-memory server's routes through `inject()`, with the
 * credentials a real link would send. A test can corrupt a stream that has arrived, or cut an
 * upload after some bytes (the link then fails as a dropped connection does).
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { LightMyRequestResponse } from "fastify";
import type { ReplicaAnnouncement, SyncCommit } from "../../server/src/core/commands";
import type { ReplicationOperationBody } from "@prophetstor/dpl-provider/wire";
import { EngineError } from "../../server/src/core/ports";
import { refusalOf } from "../../server/src/engines/replication/https-peer-link";
import { acceptOperation, commitOperation, demoteOperation } from "../../server/src/engines/replication/peer-operations";
import type { PeerAddress, PeerLink, ReplicationEngine, SendStream, SharedBase, TransferState } from "../../server/src/core/replication-ports";
import type { MemoryDisks } from "./in-memory-engines";

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

export class InMemoryReplicationEngine implements ReplicationEngine {
  constructor(private readonly disks: MemoryDisks) {}

  /** Stream bytes by path; they live on the disks, so a restarted server finds them. */
  get streams(): Map<string, Buffer> {
    return this.disks.streams;
  }

  streamPath(poolId: string, name: string): string {
    return `/memory/pools/${poolId}/replication/${name}`;
  }

  sendToFile(poolId: string, snapshotId: string, parentSnapshotId: string | null, name: string): Promise<SendStream> {
    const snapshot = this.disks.file(`/memory/pools/${poolId}/snapshots/${snapshotId}/data`);
    const bytes = Buffer.from(JSON.stringify({ parent: parentSnapshotId, size: snapshot.size, content: snapshot.content }));
    const path = this.streamPath(poolId, name);
    this.streams.set(path, bytes);
    return Promise.resolve({ path, bytes: bytes.length, sha256: sha256(bytes) });
  }

  streamLength(poolId: string, name: string): Promise<number> {
    return Promise.resolve(this.streams.get(this.streamPath(poolId, name))?.length ?? 0);
  }

  async appendToStream(poolId: string, name: string, offset: number, data: Readable): Promise<number> {
    const path = this.streamPath(poolId, name);
    const held = this.streams.get(path) ?? Buffer.alloc(0);
    if (held.length !== offset) throw new EngineError("FAILED", `the stream holds ${held.length} bytes, not ${offset}`);
    let written = 0;
    for await (const chunk of data) {
      const bytes = Buffer.from(chunk as Uint8Array);
      this.streams.set(path, Buffer.concat([this.streams.get(path) ?? Buffer.alloc(0), bytes]));
      written += bytes.length;
    }
    return written;
  }

  receiveStream(poolId: string, name: string, expected: { snapshotId: string; bytes: number; sha256: string }): Promise<void> {
    const bytes = this.streams.get(this.streamPath(poolId, name)) ?? Buffer.alloc(0);
    if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) {
      return Promise.reject(new EngineError("INVALID_REQUEST", `stream ${name} does not verify (${bytes.length} of ${expected.bytes} bytes)`));
    }
    const { size, content } = JSON.parse(bytes.toString()) as { size: number; content: string };
    this.disks.pool(poolId);
    this.disks.files.set(`/memory/pools/${poolId}/snapshots/${expected.snapshotId}/data`, { size, allocated: content.length, content });
    return Promise.resolve();
  }

  removeStream(poolId: string, name: string): Promise<void> {
    this.streams.delete(this.streamPath(poolId, name));
    return Promise.resolve();
  }
}

/** A server as the link reaches it: its routes, and where its streams are kept. */
export interface ReachableServer {
  request(options: { method: "GET" | "PUT" | "DELETE"; url: string; payload?: string | Buffer; headers: Record<string, string> }): Promise<LightMyRequestResponse>;
}

/** Every in-memory server that takes replication, by the URL its peers use. */
export const REACHABLE_SERVERS = new Map<string, ReachableServer>();

export class InjectPeerLink implements PeerLink {
  /** Bytes after which the next upload is cut (a dropped link); undefined: uploads complete. */
  cutNextUploadAfter: number | undefined;
  /** Snapshot whose next upload arrives with its first byte changed (a stream damaged on the way). */
  damageUploadOf: string | undefined;
  /** Every upload: where it started and how many bytes it carried. */
  readonly uploads: { snapshotId: string; offset: number; bytes: number }[] = [];

  constructor(private readonly engine: InMemoryReplicationEngine) {}

  private async call(peer: PeerAddress, method: "GET" | "PUT" | "DELETE", path: string, body?: unknown, bytes?: Buffer): Promise<Record<string, unknown>> {
    const server = REACHABLE_SERVERS.get(peer.url);
    if (server === undefined) throw new EngineError("FAILED", `could not reach ${peer.url}: no such server`);
    const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${peer.username}:${peer.password}`).toString("base64")}` };
    let payload: string | Buffer | undefined;
    if (bytes !== undefined) {
      headers["content-type"] = "application/octet-stream";
      payload = bytes;
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const reply = await server.request({ method, url: path, headers, ...(payload === undefined ? {} : { payload }) });
    if (reply.statusCode >= 400) throw refusalOf(peer.url, reply.statusCode, reply.body);
    return reply.json<Record<string, unknown>>();
  }

  private operation(peer: PeerAddress, id: string, metadata: ReplicationOperationBody["metadata"]): Promise<Record<string, unknown>> {
    return this.call(peer, "PUT", `/v1/dpl_replication/${id}/`, { metadata });
  }

  async accept(peer: PeerAddress, id: string, replica: ReplicaAnnouncement): Promise<void> {
    await this.operation(peer, id, acceptOperation(replica));
  }

  async transferState(peer: PeerAddress, id: string, snapshotId: string): Promise<TransferState> {
    const state = await this.call(peer, "GET", `/v1/dpl_replication/${id}/transfers/${snapshotId}/`);
    return { receivedBytes: Number(state.received_bytes), writtenBytes: Number(state.written_bytes) };
  }

  async upload(peer: PeerAddress, id: string, snapshotId: string, file: string, offset: number): Promise<number> {
    const whole = this.engine.streams.get(file);
    if (whole === undefined) throw new EngineError("FAILED", `${file} does not exist`);
    const cut = this.cutNextUploadAfter;
    this.cutNextUploadAfter = undefined;
    const rest = Buffer.from(whole.subarray(offset, cut === undefined ? undefined : offset + cut));
    if (this.damageUploadOf === snapshotId) {
      this.damageUploadOf = undefined;
      rest[0] = (rest[0] ?? 0) ^ 0xff;
    }
    this.uploads.push({ snapshotId, offset, bytes: rest.length });
    await this.call(peer, "PUT", `/v1/dpl_replication/${id}/transfers/${snapshotId}/?offset=${offset}`, undefined, rest);
    if (cut !== undefined) throw new EngineError("FAILED", `the link to ${peer.url} dropped after ${rest.length} bytes`);
    return rest.length;
  }

  async commit(peer: PeerAddress, id: string, commit: SyncCommit): Promise<void> {
    await this.operation(peer, id, commitOperation(commit));
  }

  async demote(peer: PeerAddress, id: string, bases: SharedBase[]): Promise<{ poolId: string }> {
    const reply = await this.operation(peer, id, demoteOperation(bases));
    return { poolId: String((reply.metadata as Record<string, unknown>).pool_uuid) };
  }

  async release(peer: PeerAddress, id: string): Promise<void> {
    await this.call(peer, "DELETE", `/v1/dpl_replication/${id}/`).catch((error: unknown) => {
      if (!(error instanceof EngineError && error.code === "NOT_FOUND")) throw error;
    });
  }
}
