/**
 * The seams replication needs besides the volume engine: making and receiving send streams on
 * a pool (btrfs send / receive, in engines/btrfs) and talking to the other DPL server (HTTPS, in
 * engines/replication). Core decides what to send and when; these only move bytes.
 */
import type { Readable } from "node:stream";
import type { ReplicaAnnouncement, SyncCommit } from "./commands";

export interface SendStream {
  /** Where the stream was written (the pool's scratch directory). */
  path: string;
  bytes: number;
  sha256: string;
}

export interface ReplicationEngine {
  /** Writes the send stream of a snapshot (incremental from `parentSnapshotId` when given) to `name` in the pool's scratch directory. */
  sendToFile(poolId: string, snapshotId: string, parentSnapshotId: string | null, name: string): Promise<SendStream>;
  /** Where a stream named `name` is kept in the pool's scratch directory. */
  streamPath(poolId: string, name: string): string;
  /** Bytes of a stream file so far (0 when there is none). */
  streamLength(poolId: string, name: string): Promise<number>;
  /**
   * Appends what `data` carries to the stream file at `offset` (its current length). Resolves
   * with the bytes written, which are kept even when `data` ends early (a cut link).
   */
  appendToStream(poolId: string, name: string, offset: number, data: Readable): Promise<number>;
  /**
   * Checks the stream's length and sha256, then receives it into the pool's snapshots as
   * `snapshotId` (read-only, received UUID set). Nothing is left of a stream that does not verify
   * or receive. The stream file stays (the caller removes it).
   */
  receiveStream(poolId: string, name: string, expected: { snapshotId: string; bytes: number; sha256: string }): Promise<void>;
  removeStream(poolId: string, name: string): Promise<void>;
}

/** What a peer tells about one transfer. */
export interface TransferState {
  receivedBytes: number;
  writtenBytes: number;
}

/** The other DPL server of a relationship, as core calls it. */
export interface PeerLink {
  accept(peer: PeerAddress, replicationId: string, replica: ReplicaAnnouncement): Promise<void>;
  transferState(peer: PeerAddress, replicationId: string, snapshotId: string): Promise<TransferState>;
  /** Sends the file's bytes from `offset`, at most `rateLimit` bytes per second; resolves with the bytes sent. */
  upload(peer: PeerAddress, replicationId: string, snapshotId: string, file: string, offset: number, rateLimit: number | null): Promise<number>;
  commit(peer: PeerAddress, replicationId: string, commit: SyncCommit): Promise<void>;
  /** Asks the old source to become the target of the reversed relationship (`bases`: volume → shared snapshot); resolves with its pool. */
  demote(peer: PeerAddress, replicationId: string, bases: SharedBase[]): Promise<{ poolId: string }>;
  /** Ends the relationship on the peer (its volume stays, writable). */
  release(peer: PeerAddress, replicationId: string): Promise<void>;
}

/** A snapshot of one volume that both sides hold. */
export interface SharedBase {
  volumeId: string;
  snapshotId: string;
}

export interface PeerAddress {
  url: string;
  username: string;
  password: string;
  caCertificate: string | null;
}
