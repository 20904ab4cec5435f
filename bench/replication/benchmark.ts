/**
 * Benchmark 7, replication: a volume full of data on one real server replicated to another on
 * the same machine (two state dirs, two pools, two ports, HTTPS between them). The first sync
 * sends the whole volume: it is the baseline of the same run. Then 4 MiB of the volume change
 * (64 KiB writes at random offsets) and a second sync sends what changed: its bytes on the wire
 * and its time are compared with the full send's.
 */
import { runCommand } from "../../server/src/engines/command";
import { type Benchmark, type BenchmarkContext, type Mode } from "../framework/benchmark";
import { BenchServer, newObjectId } from "../fixtures/bench-server";

const MIB = 2 ** 20;
const CHANGED_BYTES = 4 * MIB;
const INCREMENTAL_BYTES_TARGET = 8 * MIB;

function volumeBytesFor(mode: Mode): number {
  return mode === "smoke" ? 64 * MIB : 1024 * MIB;
}

/** Writes `bytes` to the volume's data file with O_DIRECT, `blockBytes` per write at random offsets (or in order). */
async function writeData(file: string, sizeBytes: number, bytes: number, blockBytes: number, random: boolean): Promise<void> {
  await runCommand("fio", [
    "--name=replication", `--filename=${file}`, `--size=${sizeBytes}`, `--io_size=${bytes}`, `--rw=${random ? "randwrite" : "write"}`,
    `--bs=${blockBytes}`, "--iodepth=16", "--ioengine=libaio", "--direct=1", "--randrepeat=0", "--norandommap", "--refill_buffers", "--output-format=terse",
  ], { timeoutMs: 600_000 });
  await runCommand("sync", ["-f", file]);
}

async function timedSync(source: BenchServer, id: string): Promise<{ seconds: number; bytes: number }> {
  const started = process.hrtime.bigint();
  const reply = await source.client.syncReplication(id);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (reply.metadata.last_error !== null) throw new Error(`sync failed: ${reply.metadata.last_error}`);
  return { seconds, bytes: reply.metadata.last_sync_bytes };
}

export const replicationBenchmark: Benchmark = {
  name: "replication",
  title: "7. Replication: incremental sync after 4 MiB changed vs the full send",

  async unavailableReason() {
    const found = await runCommand("which", ["fio"], { timeoutMs: 5_000 }).then(() => true, () => false);
    return found ? undefined : "fio is not installed";
  },

  async run(ctx: BenchmarkContext) {
    const volumeBytes = volumeBytesFor(ctx.mode);
    const poolSize = `${Math.ceil((3 * volumeBytes) / 2 ** 30) + 2}G`;
    const [source, target] = await Promise.all([BenchServer.start(poolSize), BenchServer.start(poolSize)]);
    try {
      const volume = newObjectId();
      const replication = newObjectId();
      const label = `${volumeBytes / MIB} MiB volume`;
      await source.client.createVolume(volume, { poolId: source.poolId, sizeBytes: volumeBytes, thin: true });
      const data = source.volumeDataPath(source.poolId, volume);
      ctx.log(`${label}: writing it full`);
      await writeData(data, volumeBytes, volumeBytes, MIB, false);
      const peer = target.server;
      await source.client.createReplication(replication, {
        volume, target: { url: peer.url, username: peer.username, password: peer.password, ca_certificate: peer.caPem }, targetPool: target.poolId,
      });
      ctx.log(`${label}: first (full) sync`);
      const full = await timedSync(source, replication);
      ctx.log(`${label}: changing ${CHANGED_BYTES / MIB} MiB in 64 KiB writes at random offsets`);
      await writeData(data, volumeBytes, CHANGED_BYTES, 64 * 1024, true);
      const incremental = await timedSync(source, replication);

      const changed = `${label}, ${CHANGED_BYTES / MIB} MiB changed`;
      ctx.record({ case: label, metric: "full send: bytes on the wire", unit: "MiB", value: full.bytes / MIB });
      ctx.record({ case: label, metric: "full send: sync time", unit: "s", value: full.seconds });
      ctx.record({
        case: changed, metric: "incremental sync: bytes on the wire", unit: "MiB", value: incremental.bytes / MIB,
        baseline: { label: "full send", value: full.bytes / MIB }, ratio: incremental.bytes / full.bytes,
        target: { description: `≤ ${INCREMENTAL_BYTES_TARGET / MIB} MiB`, met: incremental.bytes <= INCREMENTAL_BYTES_TARGET },
      });
      ctx.record({
        case: changed, metric: "incremental sync: time", unit: "s", value: incremental.seconds,
        baseline: { label: "full send", value: full.seconds }, ratio: incremental.seconds / full.seconds,
      });
      ctx.note("Bytes on the wire are the btrfs send stream's bytes as the source uploads them (the replication's last_sync_bytes); HTTP framing and TLS add little.");
      ctx.note("Sync time is the client's sync call end to end: snapshot, send stream written to the pool, upload over HTTPS on loopback, verify (sha256), btrfs receive and publish on the target.");
      ctx.note("Both servers and their pools share this machine's CPUs and disk: a sync here also pays for the receiving side.");
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  },
};
