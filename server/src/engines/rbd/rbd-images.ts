/**
 * How an rbd pool's objects are named in its Ceph pool. Several DPL pools (of one server or of
 * several) may share one Ceph pool: every image carries its DPL pool's id, so each DPL pool sees
 * and deletes only its own.
 */
import type { CephConnection } from "../../core/ports";
import { RbdCli } from "./rbd-cli";

/** What the rbd engines need to know from the server's records. */
export interface RbdPoolDirectory {
  /** The Ceph connection of an rbd pool. */
  connectionOf(poolId: string): CephConnection;
  /** The volume a snapshot was taken of: its image holds the snapshot. */
  volumeOfSnapshot(snapshotId: string): string | undefined;
}

/** The snapshot a clone of a volume (not of a snapshot) is made from: RBD clones only from snapshots. */
export const CLONE_SOURCE_PREFIX = "clone-source-";

export class RbdImages {
  constructor(private readonly directory: RbdPoolDirectory) {}

  cli(poolId: string): RbdCli {
    return new RbdCli(this.directory.connectionOf(poolId));
  }

  prefix(poolId: string): string {
    return `dpl-${poolId}-`;
  }

  imageOf(poolId: string, volumeId: string): string {
    return `${this.prefix(poolId)}${volumeId}`;
  }

  /** The volume an image of this pool holds; undefined for images of other pools (or not DPL's). */
  volumeOf(poolId: string, image: string): string | undefined {
    const prefix = this.prefix(poolId);
    return image.startsWith(prefix) ? image.slice(prefix.length) : undefined;
  }

  volumeOfSnapshot(snapshotId: string): string | undefined {
    return this.directory.volumeOfSnapshot(snapshotId);
  }
}
