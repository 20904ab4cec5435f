#!/usr/bin/env node
/**
 * `dpl`: an admin tool for a DPL server, on the same client the provider uses. The server and
 * credentials come from DPL_ENDPOINT, DPL_USERNAME, DPL_PASSWORD, DPL_CA_FILE / DPL_CA_PEM,
 * DPL_INSECURE (and DPL_TIMEOUT_MS), as for the provider. `--json` prints records for scripts.
 *
 *   dpl pools | volumes | snapshots [volume] | exports | health
 *   dpl pool scrub <pool> | dpl pool dedupe <pool>
 *   dpl pool schedule <pool> [--scrub-every 7d] [--dedupe-every 1d|off]
 *   dpl pool devices <pool> | add-device | remove-device | replace-device
 *   dpl replications | dpl replication show|create|sync|promote|reverse|delete <id>
 */
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import { DplClient, DplClientOptions } from "../client";
import { PoolDevice, type PoolDeviceChange, type PoolOperation, type PoolReply, type VolumeReply } from "../wire";
import { formatBytes, formatTime, printer, type Printer } from "./cli-output";
import { formatInterval, parseInterval } from "./durations";
import { addReplicationCommands } from "./replication-commands";

interface GlobalOptions {
  json?: boolean;
}

/** Exit status of `dpl health` when some pool is not Online. */
const UNHEALTHY_EXIT = 2;

async function withCli(program: Command, use: (client: DplClient, out: Printer, json: boolean) => Promise<void>): Promise<void> {
  const json = program.opts<GlobalOptions>().json === true;
  const client = new DplClient(DplClientOptions.fromEnvironment(process.env));
  try {
    await use(client, printer(json), json);
  } finally {
    await client.close();
  }
}

async function allPools(client: DplClient): Promise<PoolReply[]> {
  const pools: PoolReply[] = [];
  for (const { id } of await client.listPools()) {
    const pool = await client.getPool(id);
    if (pool !== undefined) pools.push(pool);
  }
  return pools;
}

async function allVolumes(client: DplClient): Promise<VolumeReply[]> {
  const volumes: VolumeReply[] = [];
  for (const { id } of await client.listVolumes()) {
    const volume = await client.getVolume(id);
    if (volume !== undefined) volumes.push(volume);
  }
  return volumes;
}

function listPools(program: Command): Promise<void> {
  return withCli(program, async (client, out) => {
    const pools = await allPools(client);
    out.table(
      ["id", "name", "state", "raid", "compression", "total", "used", "free", "provisioned", "ratio", "scrub every", "dedupe every"],
      pools.map(({ metadata: m }) => [
        m.pool_uuid, m.display_name, m.state, m.properties.raid_level, m.properties.compression,
        formatBytes(m.total_capacity), formatBytes(m.used_capacity), formatBytes(m.available_capacity), formatBytes(m.provisioned_capacity),
        m.compression_ratio ?? null, formatInterval(m.maintenance_schedule?.scrub_every_seconds), formatInterval(m.maintenance_schedule?.dedupe_every_seconds),
      ]),
      pools.map((p) => p.metadata),
    );
  });
}

function listVolumes(program: Command, options: { pool?: string }): Promise<void> {
  return withCli(program, async (client, out) => {
    const volumes = (await allVolumes(client)).filter((v) => options.pool === undefined || v.metadata.pool_uuid === options.pool);
    out.table(
      ["id", "name", "pool", "size", "used", "thin", "state", "snapshots", "exported"],
      volumes.map((v) => [
        v.objectID, v.metadata.display_name, v.metadata.pool_uuid, formatBytes(v.metadata.total_capacity), formatBytes(v.metadata.used_capacity),
        v.metadata.properties.thin_provision, v.metadata.state, v.snapshots.length, (v.exports["Network/iSCSI"]?.length ?? 0) > 0,
      ]),
      volumes.map((v) => ({ volume_uuid: v.objectID, ...v.metadata, snapshots: v.snapshots, exports: v.exports })),
    );
  });
}

function listSnapshots(program: Command, volume: string | undefined): Promise<void> {
  return withCli(program, async (client, out) => {
    const volumeIds = volume === undefined ? (await client.listVolumes()).map((v) => v.id) : [volume];
    const snapshots = [];
    for (const volumeId of volumeIds) {
      for (const { id } of await client.listSnapshots(volumeId)) {
        const snapshot = await client.getSnapshot(volumeId, id);
        if (snapshot !== undefined) snapshots.push(snapshot.metadata);
      }
    }
    out.table(
      ["id", "name", "volume", "size", "state", "created"],
      snapshots.map((s) => [s.snapshot_uuid, s.display_name, s.origin_uuid, formatBytes(s.total_capacity), s.state, formatTime(s.ctime)]),
      snapshots,
    );
  });
}

function listDisks(program: Command, options: { unused?: boolean }): Promise<void> {
  return withCli(program, async (client, out) => {
    const disks = (await client.listDisks()).filter((d) => options.unused !== true || d.pool_uuid === null);
    out.table(
      ["path", "size", "model", "rotational", "pool"],
      disks.map((d) => [d.path, d.size_bytes === null ? "missing" : formatBytes(d.size_bytes), d.model, d.rotational, d.pool_uuid]),
      disks,
    );
  });
}

function listExports(program: Command): Promise<void> {
  return withCli(program, async (client, out) => {
    const exports = (await allVolumes(client)).flatMap((v) =>
      (v.exports["Network/iSCSI"] ?? []).map((entry) => ({
        volume_uuid: v.objectID,
        protocol: "iscsi",
        target_identifier: entry.target_identifier,
        logical_unit_number: entry.logical_unit_number,
        portals: entry.portals,
        initiators: entry.permissions.flatMap((grant) => Object.keys(grant)),
        authentication: entry.authentication.method,
      })));
    out.table(
      ["volume", "target", "lun", "portals", "initiators", "auth"],
      exports.map((e) => [e.volume_uuid, e.target_identifier, e.logical_unit_number, e.portals.join(" "), e.initiators.join(" "), e.authentication]),
      exports,
    );
  });
}

function health(program: Command): Promise<void> {
  return withCli(program, async (client, out, json) => {
    const system = await client.system();
    const pools = await allPools(client);
    const rows = pools.map(({ metadata: m }) => {
      const deviceErrors = m.devices.reduce((sum, d) => sum + d.errors.read + d.errors.write + d.errors.flush + d.errors.corruption + d.errors.generation, 0);
      return {
        pool_uuid: m.pool_uuid,
        name: m.display_name,
        state: m.state,
        devices_missing: m.devices.filter((d) => d.state !== "Online").length,
        device_errors: deviceErrors,
        last_scrub: m.last_scrub ?? null,
      };
    });
    const healthy = rows.every((r) => r.state === "Online" && r.devices_missing === 0);
    if (json) {
      out.object({}, { server: system.metadata.server_name, version: system.metadata.version, capabilities: system.metadata.capabilities, healthy, pools: rows });
    } else {
      process.stdout.write(`${system.metadata.vendor} ${system.metadata.version} on ${system.metadata.server_name}: ${healthy ? "healthy" : "NOT healthy"}\n`);
      out.table(
        ["pool", "name", "state", "missing devices", "device errors", "last scrub", "scrub corrected", "scrub uncorrectable"],
        rows.map((r) => [r.pool_uuid, r.name, r.state, r.devices_missing, r.device_errors, formatTime(r.last_scrub?.finished), r.last_scrub?.corrected_errors, r.last_scrub?.uncorrectable_errors]),
        rows,
      );
    }
    if (!healthy) process.exitCode = UNHEALTHY_EXIT;
  });
}

function runPoolJob(program: Command, operation: PoolOperation, poolId: string): Promise<void> {
  return withCli(program, async (client, out, json) => {
    // The bar goes to stderr, so stdout stays the result (and valid JSON with --json).
    const bar = json || !process.stderr.isTTY ? undefined : new SingleBar({ format: `${operation} {bar} {percentage}%`, stream: process.stderr, hideCursor: true });
    bar?.start(100, 0);
    let pool: PoolReply;
    try {
      pool = await client.runPoolOperation(poolId, operation, (percent) => bar?.update(percent));
      bar?.update(100);
    } finally {
      bar?.stop();
    }
    const m = pool.metadata;
    if (operation === "scrub") {
      const r = m.last_scrub;
      out.object({
        pool: m.pool_uuid, "bytes scrubbed": formatBytes(r?.bytes_scrubbed), "errors found": r?.errors_found,
        corrected: r?.corrected_errors, uncorrectable: r?.uncorrectable_errors, finished: formatTime(r?.finished),
      }, { pool_uuid: m.pool_uuid, ...r });
      if ((r?.uncorrectable_errors ?? 0) > 0) process.exitCode = UNHEALTHY_EXIT;
    } else {
      const r = m.last_dedupe;
      out.object({
        pool: m.pool_uuid, "used before": formatBytes(r?.used_bytes_before), "used after": formatBytes(r?.used_bytes_after),
        saved: formatBytes(r?.bytes_saved), "files scanned": r?.files_scanned, finished: formatTime(r?.finished),
      }, { pool_uuid: m.pool_uuid, ...r });
    }
  });
}

interface ScheduleOptions {
  scrubEvery?: string;
  dedupeEvery?: string;
}

function printSchedule(out: Printer, pool: PoolReply): void {
  const m = pool.metadata;
  const schedule = m.maintenance_schedule ?? { scrub_every_seconds: null, dedupe_every_seconds: null };
  out.object({
    pool: m.pool_uuid,
    "scrub every": formatInterval(schedule.scrub_every_seconds), "next scrub": formatTime(m.next_scrub_at), "last scrub": formatTime(m.last_scrub?.finished),
    "dedupe every": formatInterval(schedule.dedupe_every_seconds), "next dedupe": formatTime(m.next_dedupe_at), "last dedupe": formatTime(m.last_dedupe?.finished),
  }, {
    pool_uuid: m.pool_uuid, maintenance_schedule: schedule, next_scrub_at: m.next_scrub_at ?? null, next_dedupe_at: m.next_dedupe_at ?? null,
    last_scrub_finished: m.last_scrub?.finished ?? null, last_dedupe_finished: m.last_dedupe?.finished ?? null,
  });
}

/** Without options shows the schedule; each option given sets (or, with "off", clears) that interval. */
function schedulePool(program: Command, poolId: string, options: ScheduleOptions): Promise<void> {
  return withCli(program, async (client, out) => {
    const schedule = {
      ...(options.scrubEvery === undefined ? {} : { scrub_every_seconds: parseInterval("--scrub-every", options.scrubEvery) }),
      ...(options.dedupeEvery === undefined ? {} : { dedupe_every_seconds: parseInterval("--dedupe-every", options.dedupeEvery) }),
    };
    const pool = Object.keys(schedule).length === 0 ? await client.getPool(poolId) : await client.setPoolSchedule(poolId, schedule);
    if (pool === undefined) throw new Error(`no pool ${poolId}`);
    printSchedule(out, pool);
  });
}

interface DeviceOptions {
  sizeGib?: string;
  path?: string;
}

/** `--size-gib N` (a new image file on the server) or `--path /dev/x` (an allowed block device). */
function deviceFromOptions(options: DeviceOptions): PoolDevice {
  if ((options.sizeGib === undefined) === (options.path === undefined)) throw new Error("give exactly one of --size-gib or --path");
  const candidate = options.path !== undefined
    ? { type: "block_device", path: options.path }
    : { type: "image_file", size: Math.round(Number(options.sizeGib) * 2 ** 30) };
  const parsed = PoolDevice.safeParse(candidate);
  if (!parsed.success) throw new Error(`${options.path !== undefined ? "--path" : "--size-gib"}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

function printDevices(out: Printer, pool: PoolReply): void {
  const m = pool.metadata;
  out.table(
    ["device", "type", "path", "size", "state", "read err", "write err", "flush err", "corruption", "generation"],
    m.devices.map((d) => [d.device_uuid, d.type, d.path, formatBytes(d.size), d.state, d.errors.read, d.errors.write, d.errors.flush, d.errors.corruption, d.errors.generation]),
    { pool_uuid: m.pool_uuid, state: m.state, devices: m.devices },
  );
}

function listDevices(program: Command, poolId: string): Promise<void> {
  return withCli(program, async (client, out) => {
    const pool = await client.getPool(poolId);
    if (pool === undefined) throw new Error(`no pool ${poolId}`);
    printDevices(out, pool);
    if (pool.metadata.state !== "Online") process.exitCode = UNHEALTHY_EXIT;
  });
}

/** Runs one device change to its end (btrfs may be moving or rebuilding data) and prints the devices. */
function changeDevices(program: Command, poolId: string, change: () => PoolDeviceChange): Promise<void> {
  return withCli(program, async (client, out) => {
    printDevices(out, await client.changePoolDevices(poolId, change()));
  });
}

export function buildProgram(): Command {
  const program = new Command()
    .name("dpl")
    .description("Admin tool for a DPL server (credentials from DPL_ENDPOINT, DPL_USERNAME, DPL_PASSWORD, DPL_CA_FILE or DPL_CA_PEM, DPL_INSECURE)")
    .option("--json", "print JSON records instead of tables");
  program.command("pools").description("list pools with capacity, state and compression ratio").action(() => listPools(program));
  program.command("volumes").description("list volumes").option("--pool <id>", "only this pool's volumes").action((options: { pool?: string }) => listVolumes(program, options));
  program.command("snapshots [volume]").description("list snapshots (of every volume, or of one)").action((volume: string | undefined) => listSnapshots(program, volume));
  program.command("disks").description("block devices pools may be built from (the server's --allow-block-device list)")
    .option("--unused", "only those no pool holds").action((options: { unused?: boolean }) => listDisks(program, options));
  program.command("exports").description("list iSCSI exports").action(() => listExports(program));
  program.command("health").description(`server and pool health (exit status ${UNHEALTHY_EXIT} when a pool is not Online)`).action(() => health(program));
  const pool = program.command("pool").description("pool maintenance jobs, their schedule, and devices");
  pool.command("scrub <pool>").description("read every copy of every block, repairing bad ones; waits with a progress bar")
    .action((poolId: string) => runPoolJob(program, "scrub", poolId));
  pool.command("dedupe <pool>").description("share identical blocks between volumes; waits with a progress bar")
    .action((poolId: string) => runPoolJob(program, "dedupe", poolId));
  pool.command("schedule <pool>").description("show or set how often the server scrubs and dedupes the pool on its own (durations like 7d, 12h, 30m, 1d12h; off)")
    .option("--scrub-every <duration>", "scrub this long after the last scrub finished (off: not scheduled)")
    .option("--dedupe-every <duration>", "dedupe this long after the last dedupe finished (off: not scheduled)")
    .action((poolId: string, options: ScheduleOptions) => schedulePool(program, poolId, options));
  pool.command("devices <pool>").description(`a pool's devices with state and btrfs error counters (exit status ${UNHEALTHY_EXIT} when the pool is not Online)`)
    .action((poolId: string) => listDevices(program, poolId));
  pool.command("add-device <pool>").description("add a device in place (a new image file, or an allowed block device)")
    .option("--size-gib <n>", "size of a new image file").option("--path <dev>", "block device on the server's allow-list")
    .action((poolId: string, options: DeviceOptions) => changeDevices(program, poolId, () => ({ device_operation: "add", devices: [deviceFromOptions(options)] })));
  pool.command("remove-device <pool> <device...>").description("move the devices' data to the others and take them out")
    .action((poolId: string, devices: string[]) => changeDevices(program, poolId, () => ({ device_operation: "remove", device_uuids: devices })));
  pool.command("replace-device <pool> <device>").description("copy (or rebuild, when missing) a device onto a new one")
    .option("--size-gib <n>", "size of a new image file").option("--path <dev>", "block device on the server's allow-list")
    .action((poolId: string, device: string, options: DeviceOptions) =>
      changeDevices(program, poolId, () => ({ device_operation: "replace", device_uuid: device, device: deviceFromOptions(options) })));
  addReplicationCommands(program, withCli);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((error: unknown) => {
    process.stderr.write(`dpl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
