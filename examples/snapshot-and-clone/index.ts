/**
 * Snapshots and clones are constant-time on the DPL server (btrfs subvolume snapshots): no data
 * is copied, whatever the volume holds.
 */
import * as dpl from "@prophetstor/pulumi-dpl";

export = async () => {
  const pool = await dpl.getPool();
  const golden = new dpl.Volume("golden-image", { pool, sizeGib: 2, name: "golden-image" });
  const release = new dpl.Snapshot("golden-release-1", { volume: golden, name: "release-1" });

  // A test copy of the release, larger than its source (clones may grow, never shrink).
  const testCopy = new dpl.Clone("test-copy", { sourceVolume: golden, sourceSnapshot: release, sizeGib: 4, name: "test-copy" });
  // A clone of whatever the volume holds right now.
  const scratch = new dpl.Clone("scratch", { sourceVolume: golden, name: "scratch" });

  return { golden: golden.volumeId, snapshot: release.snapshotId, testCopy: testCopy.volumeId, scratch: scratch.volumeId };
};
