/**
 * `dpl replications` and `dpl replication ...`: list, show, create, sync, promote, reverse and
 * delete replication relationships. Peer passwords come from the environment
 * (DPL_PEER_PASSWORD), never from the command line, where `ps` would show them.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { DplClient, ReplicationView } from "../client";
import type { ReplicationPeer } from "../wire";
import { formatBytes, formatTime, type Printer } from "./cli-output";
import { formatInterval, parseInterval } from "./durations";

export type WithCli = (program: Command, use: (client: DplClient, out: Printer, json: boolean) => Promise<void>) => Promise<void>;

interface PeerOptions {
  peerUrl: string;
  peerUser?: string;
  peerCaFile?: string;
}

interface CreateOptions extends PeerOptions {
  volume?: string;
  volumeGroup?: string;
  targetPool: string;
  rpo?: string;
  name?: string;
}

/** The other server as the options name it; its password from DPL_PEER_PASSWORD. */
function peerFrom(options: PeerOptions, env: NodeJS.ProcessEnv = process.env): ReplicationPeer {
  const password = env.DPL_PEER_PASSWORD;
  if (password === undefined || password === "") throw new Error("set DPL_PEER_PASSWORD to the other server's password");
  return {
    url: options.peerUrl, username: options.peerUser ?? "admin", password,
    ...(options.peerCaFile === undefined ? {} : { ca_certificate: readFileSync(options.peerCaFile, "utf8") }),
  };
}

function printReplication(out: Printer, reply: ReplicationView): void {
  const m = reply.metadata;
  out.object({
    id: m.replication_uuid, name: m.display_name, role: m.role, state: m.state,
    carries: m.volume_group === null ? `volume ${m.volume ?? "-"}` : `volume group ${m.volume_group} (${m.volumes.length} volumes)`,
    peer: m.peer_url, "peer pool": m.peer_pool_uuid, rpo: formatInterval(m.rpo_seconds),
    "point in time": formatTime(m.last_synced_snapshot_time), lag: m.lag_seconds === null ? null : `${m.lag_seconds} s`,
    "last sync": formatBytes(m.last_sync_bytes), "bytes sent": formatBytes(m.total_bytes_sent), "last error": m.last_error,
  }, m);
}

function listReplications(program: Command, withCli: WithCli): Promise<void> {
  return withCli(program, async (client, out) => {
    const replies: ReplicationView[] = [];
    for (const { id } of await client.listReplications()) {
      const reply = await client.getReplication(id);
      if (reply !== undefined) replies.push(reply);
    }
    out.table(
      ["id", "name", "role", "state", "volumes", "peer", "rpo", "point in time", "lag s", "bytes sent"],
      replies.map(({ metadata: m }) => [
        m.replication_uuid, m.display_name, m.role, m.state, m.volumes.length, m.peer_url, formatInterval(m.rpo_seconds),
        formatTime(m.last_synced_snapshot_time), m.lag_seconds, formatBytes(m.total_bytes_sent),
      ]),
      replies.map((r) => r.metadata),
    );
  });
}

function act(program: Command, withCli: WithCli, call: (client: DplClient) => Promise<ReplicationView | undefined>): Promise<void> {
  return withCli(program, async (client, out) => {
    const reply = await call(client);
    if (reply === undefined) throw new Error("no such replication");
    printReplication(out, reply);
  });
}

export function addReplicationCommands(program: Command, withCli: WithCli): void {
  program.command("replications").description("list replication relationships (this server as source or target)").action(() => listReplications(program, withCli));
  const replication = program.command("replication").description("replicate volumes and volume groups to another DPL server; fail over and back");
  replication.command("show <id>").description("a relationship: role, state, point in time, lag, bytes sent")
    .action((id: string) => act(program, withCli, (c) => c.getReplication(id)));
  replication.command("create <id>").description("replicate a volume (or a volume group) to another server (password in DPL_PEER_PASSWORD)")
    .option("--volume <id>", "the volume to replicate").option("--volume-group <id>", "or a volume group: its members replicate at one instant")
    .requiredOption("--peer-url <url>", "the target server's URL").option("--peer-user <name>", "the target server's user (default admin)")
    .option("--peer-ca-file <pem>", "the target server's certificate (or its CA)").requiredOption("--target-pool <id>", "the pool on the target for the replicas")
    .option("--rpo <duration>", "sync when the last synced snapshot is this old (e.g. 15m, 1h); absent: on demand").option("--name <name>", "display name")
    .action((id: string, options: CreateOptions) => act(program, withCli, (c) => c.createReplication(id, {
      name: options.name, volume: options.volume, volumeGroup: options.volumeGroup, target: peerFrom(options), targetPool: options.targetPool,
      rpoSeconds: options.rpo === undefined ? undefined : parseInterval("--rpo", options.rpo),
    })));
  replication.command("sync <id>").description("on the source: snapshot and send now, and wait until the target has published it")
    .action((id: string) => act(program, withCli, (c) => c.syncReplication(id)));
  replication.command("promote <id>").description("on the target: the replicas become writable, exportable volumes (failover)")
    .action((id: string) => act(program, withCli, (c) => c.promoteReplication(id)));
  replication.command("reverse <id>").description("on a promoted target: become the source toward the old source, which catches up (failback; password in DPL_PEER_PASSWORD)")
    .requiredOption("--peer-url <url>", "the old source's URL").option("--peer-user <name>", "its user (default admin)").option("--peer-ca-file <pem>", "its certificate (or CA)")
    .action((id: string, options: PeerOptions) => act(program, withCli, (c) => c.reverseReplication(id, peerFrom(options))));
  replication.command("delete <id>").description("end the relationship on both servers; every volume and replica stays")
    .action((id: string) => withCli(program, async (client, out) => {
      await client.deleteReplication(id);
      out.object({ deleted: id }, { deleted: id });
    }));
}
