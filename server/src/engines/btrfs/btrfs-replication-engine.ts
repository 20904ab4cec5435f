/**
 * Send streams on btrfs: `btrfs send` of a read-only snapshot (with `-p` from the previous one,
 * so only changed extents travel) into a file under the pool's `replication/` directory, and on
 * the other side the same file grown by uploads, checked (length, sha256) and `btrfs receive`d
 * into the pool's snapshots. A received snapshot is read-only with its received UUID set; one
 * that is not is deleted rather than published.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReplicationEngine, SendStream } from "../../core/replication-ports";
import { runCommand } from "../command";
import { BtrfsLayout, COPY_COMMAND_MS, deleteSubvolume, InvalidPoolRequestError, VolumeNotFoundError } from "./btrfs-layout";

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

async function lengthOf(file: string): Promise<number> {
  return existsSync(file) ? (await stat(file)).size : 0;
}

export class BtrfsReplicationEngine implements ReplicationEngine {
  private readonly layout: BtrfsLayout;

  constructor(options: { stateDir: string }) {
    this.layout = new BtrfsLayout(options.stateDir);
  }

  streamPath(poolId: string, name: string): string {
    return this.layout.replicationStreamPath(poolId, name);
  }

  async sendToFile(poolId: string, snapshotId: string, parentSnapshotId: string | null, name: string): Promise<SendStream> {
    const snapshot = this.layout.snapshotDir(poolId, snapshotId);
    if (!existsSync(snapshot)) throw new VolumeNotFoundError(`snapshot ${snapshotId} not found in pool ${poolId}`);
    const parent = parentSnapshotId === null ? [] : ["-p", this.layout.snapshotDir(poolId, parentSnapshotId)];
    const file = this.streamPath(poolId, name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      await runCommand("btrfs", ["send", "-q", ...parent, "-f", file, snapshot], { timeoutMs: COPY_COMMAND_MS });
      return { path: file, bytes: await lengthOf(file), sha256: await sha256Of(file) };
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  streamLength(poolId: string, name: string): Promise<number> {
    return lengthOf(this.streamPath(poolId, name));
  }

  async appendToStream(poolId: string, name: string, offset: number, data: Readable): Promise<number> {
    const file = this.streamPath(poolId, name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    if (offset !== await lengthOf(file)) throw new InvalidPoolRequestError(`stream ${name} does not end at ${offset}`);
    const out = createWriteStream(file, { flags: offset === 0 ? "w" : "r+", start: offset, mode: 0o600 });
    // A cut link ends the upload early: what reached the file stays, and is where the next upload starts.
    await pipeline(data, out).catch(() => undefined);
    return (await lengthOf(file)) - offset;
  }

  async receiveStream(poolId: string, name: string, expected: { snapshotId: string; bytes: number; sha256: string }): Promise<void> {
    const file = this.streamPath(poolId, name);
    const bytes = await lengthOf(file);
    if (bytes !== expected.bytes) throw new InvalidPoolRequestError(`stream ${name} holds ${bytes} bytes, not the ${expected.bytes} the source sent`);
    const sha256 = await sha256Of(file);
    if (sha256 !== expected.sha256) throw new InvalidPoolRequestError(`stream ${name} does not match the source's sha256 (${sha256} != ${expected.sha256})`);
    const received = this.layout.snapshotDir(poolId, expected.snapshotId);
    if (existsSync(received)) await deleteSubvolume(received);
    await mkdir(path.dirname(received), { recursive: true });
    try {
      // The stream names the subvolume after the source's snapshot directory: the snapshot's id.
      await runCommand("btrfs", ["receive", "-q", "-f", file, path.dirname(received)], { timeoutMs: COPY_COMMAND_MS });
      const shown = (await runCommand("btrfs", ["subvolume", "show", received])).stdout;
      const receivedUuid = /Received UUID:\s*(\S+)/.exec(shown)?.[1];
      if (receivedUuid === undefined || receivedUuid === "-" || !/Flags:\s*readonly/.test(shown)) {
        throw new InvalidPoolRequestError(`snapshot ${expected.snapshotId} was not received whole (no received UUID, or not read-only)`);
      }
    } catch (error) {
      await deleteSubvolume(received).catch(() => undefined);
      throw error;
    }
  }

  async removeStream(poolId: string, name: string): Promise<void> {
    await rm(this.streamPath(poolId, name), { force: true });
  }
}
