/**
 * The copy-free operations on the rbd backend, beside btrfs: the same operations through the
 * server's RbdVolumeEngine (the code the server runs) on a real single-node Ceph cluster
 * (scripts/ceph-cluster.sh), on one image holding 1 GiB of data that is grown to each logical
 * size in turn, against a full copy of it (`rbd cp`).
 */
import { RbdVolumeEngine } from "../../server/src/engines/rbd/rbd-volume-engine";
import type { CephConnection } from "../../server/src/core/ports";
import type { TestCephCluster } from "../../test/support/ceph-cluster";
import { withBenchCephCluster } from "../fixtures/bench-ceph-cluster";
import type { BenchmarkContext } from "../framework/benchmark";
import { sampleLatency, summarize } from "../framework/latency-stats";

const GIB = 2 ** 30;
const RBD_OBJECT_BYTES = 4 * 2 ** 20;

export interface CopyFreeSample {
  operation: string;
  layout: string;
  sizeGiB: number;
  p50: number;
  p90: number;
  fullCopyP50: number;
}

export interface RbdPlan {
  sizesGiB: number[];
  repetitions: number;
  rollbackRepetitions: number;
  fullCopyRepetitions: number;
}

/** rbd snapshot, clone of a volume, clone of a snapshot, rollback: what the server does for each operation. */
const RBD_OPERATIONS = ["snapshot", "clone", "copy-from-snapshot", "rollback"] as const;
type RbdOperation = (typeof RBD_OPERATIONS)[number];

export function measureRbdCopyFree(ctx: BenchmarkContext, plan: RbdPlan): Promise<CopyFreeSample[]> {
  return withBenchCephCluster(ctx, (cluster) => measureOn(ctx, plan, cluster));
}

async function measureOn(ctx: BenchmarkContext, plan: RbdPlan, cluster: TestCephCluster): Promise<CopyFreeSample[]> {
  const poolId = "bench";
  const connection: CephConnection = { configPath: cluster.conf, keyringPath: cluster.keyring, clientId: cluster.client, rbdPool: cluster.rbdPool };
  const snapshotOwners = new Map<string, string>();
  const engine = new RbdVolumeEngine({ connectionOf: () => connection, volumeOfSnapshot: (id) => snapshotOwners.get(id) });
  const snapshot = async (volume: string, id: string): Promise<void> => {
    snapshotOwners.set(id, volume);
    await engine.createSnapshot(poolId, volume, id);
  };
  const volume = "data";
  const image = `${cluster.rbdPool}/dpl-${poolId}-${volume}`;
  const samples: CopyFreeSample[] = [];
  await engine.createVolume(poolId, volume, GIB, true, "none");
  ctx.log("rbd: writing 1 GiB of data");
  await cluster.rbd("bench", "--io-type", "write", "--io-size", "1M", "--io-threads", "16", "--io-total", "1G", "--io-pattern", "rand", image);
  const du = JSON.parse(await cluster.rbd("du", "--format", "json", image)) as { images: { used_size: number }[] };
  const objects = Math.round((du.images[0]?.used_size ?? Number.NaN) / RBD_OBJECT_BYTES);
  const layout = `rbd, ${objects.toLocaleString("en-US")} objects`;
  try {
    for (const sizeGiB of plan.sizesGiB) {
      // The same image, grown: the data (and its objects) stay; only the logical size changes.
      await engine.resizeVolume(poolId, volume, sizeGiB * GIB);
      const copy = `${cluster.rbdPool}/full-copy`;
      const fullCopy = summarize(await sampleLatency(plan.fullCopyRepetitions,
        () => cluster.rbd("cp", "--no-progress", image, copy),
        () => cluster.rbd("rm", "--no-progress", copy)));
      await snapshot(volume, "base");
      const timings: Record<RbdOperation, number[]> = {
        snapshot: await sampleLatency(plan.repetitions, (i) => snapshot(volume, `s${i}`), (i) => engine.deleteSnapshot(poolId, `s${i}`)),
        clone: await sampleLatency(plan.repetitions, (i) => engine.volumeFromVolume(poolId, volume, `c${i}`), (i) => engine.deleteVolume(poolId, `c${i}`)),
        "copy-from-snapshot": await sampleLatency(plan.repetitions, (i) => engine.volumeFromSnapshot(poolId, "base", `f${i}`), (i) => engine.deleteVolume(poolId, `f${i}`)),
        rollback: await sampleLatency(plan.rollbackRepetitions, () => engine.rollbackVolume(poolId, volume, "base", "in-place")),
      };
      for (const operation of RBD_OPERATIONS) {
        const summary = summarize(timings[operation]);
        samples.push({ operation, layout, sizeGiB, p50: summary.p50, p90: summary.p90, fullCopyP50: fullCopy.p50 });
      }
      await engine.deleteSnapshot(poolId, "base");
      ctx.note(`rbd, ${sizeGiB} GiB image holding 1 GiB: ${objects} RBD objects of 4 MiB; full copy (rbd cp) p50 ${fullCopy.p50.toFixed(0)} ms (${fullCopy.count} runs).`);
    }
  } finally {
    await engine.deleteVolume(poolId, volume);
  }
  return samples;
}
