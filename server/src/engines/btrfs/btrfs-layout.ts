/**
 * Where a btrfs pool keeps things, shared by the pool and the volume engine: image files under
 * `<stateDir>/images/<pool>/`, the mount at `<stateDir>/pools/<pool>/`, a volume as subvolume
 * `volumes/<id>` holding one file `data`, a snapshot as read-only subvolume `snapshots/<id>`.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../../core/ports";
import { runCommand } from "../command";

/** Long operations: mkfs on many devices, deleting or copying large files. */
export const SLOW_COMMAND_MS = 10 * 60_000;
export const COPY_COMMAND_MS = 6 * 60 * 60_000;

/** Ids become path components: nothing that could climb out of the pool's directory. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class InvalidPoolRequestError extends EngineError {
  constructor(message: string) {
    super("INVALID_REQUEST", message);
  }
}

export class VolumeNotFoundError extends EngineError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

export function checkId(kind: string, id: string): string {
  if (!SAFE_ID.test(id) || id.includes("..")) throw new InvalidPoolRequestError(`invalid ${kind} id ${JSON.stringify(id)}`);
  return id;
}

export class BtrfsLayout {
  readonly stateDir: string;

  constructor(stateDir: string) {
    this.stateDir = path.resolve(stateDir);
  }

  imageDir(poolId: string): string {
    return path.join(this.stateDir, "images", checkId("pool", poolId));
  }

  mountPoint(poolId: string): string {
    return path.join(this.stateDir, "pools", checkId("pool", poolId));
  }

  volumeDir(poolId: string, volumeId: string): string {
    return path.join(this.mountPoint(poolId), "volumes", checkId("volume", volumeId));
  }

  snapshotDir(poolId: string, snapshotId: string): string {
    return path.join(this.mountPoint(poolId), "snapshots", checkId("snapshot", snapshotId));
  }

  volumeDataPath(poolId: string, volumeId: string): string {
    return path.join(this.volumeDir(poolId, volumeId), "data");
  }

  snapshotDataPath(poolId: string, snapshotId: string): string {
    return path.join(this.snapshotDir(poolId, snapshotId), "data");
  }

  imageLibraryPath(poolId: string): string {
    return path.join(this.mountPoint(poolId), "images");
  }

  scratchDirectory(poolId: string): string {
    return path.join(this.mountPoint(poolId), "scratch");
  }

  /** Send streams of replication transfers: kept across restarts (a transfer resumes), unlike scratch files. */
  replicationStreamPath(poolId: string, name: string): string {
    return path.join(this.mountPoint(poolId), "replication", checkId("stream", name));
  }

  scratchPath(poolId: string, name: string): string {
    return path.join(this.scratchDirectory(poolId), `.${checkId("scratch file", name)}.partial`);
  }
}

export async function deleteSubvolume(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  // The commit starts btrfs's cleaner now rather than at the next periodic commit (up to 30 s):
  // without it, writes to other volumes of a full pool fail with ENOSPC for that long after a
  // delete freed plenty of space.
  await runCommand("btrfs", ["subvolume", "delete", "--commit-after", dir], { timeoutMs: SLOW_COMMAND_MS });
}
