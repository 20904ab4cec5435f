import { z } from "zod";
import type { ReplicationSettings, ReplicationView } from "../client";
import { withClient } from "../config/open-client";
import { DisplayName, HexId, MIN_RPO_SECONDS, ReplicationPeer } from "../wire";
import type { CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { isImport } from "./import-inputs";
import { differs, parseInputs, pick, withInputs } from "./input-validation";
import { ObjectIdInput, OperationTimeoutInput, named, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace, replacing } from "./resource-definition";
import { isoTimeOf } from "./server-time";

const Credentials = named(
  z.object({ username: ReplicationPeer.shape.username, password: ReplicationPeer.shape.password }),
  "ReplicationCredentialsArgs",
  "The user and password the source server logs in to the target server with.",
);

const ReplicationFields = z.object({
  objectId: ObjectIdInput,
  volume: reference(HexId, "volume").optional()
    .describe("The volume to replicate (a Volume, a Clone or a volume id); or, instead, `volumeGroup`. Changing it makes a new replication."),
  volumeGroup: reference(HexId, "volumeGroup").optional()
    .describe("A volume group: every member is snapshotted at one instant and the replicas are published together, so they share a point in time. Changing it makes a new replication."),
  targetUrl: ReplicationPeer.shape.url.describe("The URL of the DPL server that holds the replica, as the source server reaches it. Changing it makes a new replication."),
  targetCredentials: Credentials.describe("How the source server logs in to the target; read at run time (use a config secret) and kept secret in the state. Changes in place."),
  targetCaCertificate: ReplicationPeer.shape.ca_certificate
    .describe("PEM of the target's certificate (or its CA), trusted for this target only; absent: the system's CAs. Changes in place."),
  targetPool: reference(HexId, "pool").describe("The pool on the target server for the replicas (its id there). Changing it makes a new replication."),
  name: DisplayName.optional().describe("Display name (changes in place)."),
  rpoSeconds: z.number().int().min(MIN_RPO_SECONDS).optional()
    .describe(`Recovery point objective: a sync starts when the last synced snapshot is this many seconds old (at least ${MIN_RPO_SECONDS}). Absent: syncs run on demand only. Changes in place.`),
  rateLimitBytesPerSecond: z.number().int().min(64 * 1024).optional().describe("Caps the bytes per second a sync sends; absent: as fast as the link goes. Changes in place."),
  syncTriggers: z.array(z.unknown()).optional()
    .describe("Any values; when one changes, `pulumi up` runs a sync now and waits for it (an on-demand sync, in place). E.g. `[1]`, bumped to `[2]`."),
  initialSync: z.boolean().optional()
    .describe("Create waits for a first full sync, so the replica exists when `pulumi up` ends (default true). A first sync that fails undoes the create."),
  operationTimeoutSeconds: OperationTimeoutInput,
});

export const ReplicationInputs = ReplicationFields.refine((v) => (v.volume === undefined) !== (v.volumeGroup === undefined), {
  path: ["volume"], message: "name exactly one of volume and volumeGroup",
});
export type ReplicationInputs = z.output<typeof ReplicationFields>;

const ReplicationOutputs = z.object({
  replicationId: z.string().describe("The replication's DPL id (32 hex characters), the same on both servers and the same as the resource id."),
  role: z.string().describe("This server's side: `source`, or `target` once the direction was reversed after a failover."),
  state: z.string().describe("`idle`, `syncing` or `error` on a source; `replica` or `promoted` on a target."),
  replicaVolumeIds: z.array(z.string()).describe("The volumes the relationship carries (the same ids on the target: the replicas)."),
  lastSyncedAt: z.string().optional().describe("When the snapshots both sides hold were taken on the source (ISO 8601): the replicas' point in time."),
  lagSeconds: z.number().optional().describe("How far the replicas are behind, in seconds, when last read."),
  lastSyncBytes: z.number().describe("Stream bytes the last sync sent."),
  totalBytesSent: z.number().describe("Stream bytes sent over the relationship's life."),
  lastError: z.string().optional().describe("Why the last sync failed (absent when it did not)."),
});

const INPUT_KEYS = Object.keys(ReplicationFields.shape);

function replicationOutputs(reply: ReplicationView): z.output<typeof ReplicationOutputs> {
  const m = reply.metadata;
  return {
    replicationId: m.replication_uuid,
    role: m.role,
    state: m.state,
    replicaVolumeIds: m.volumes.map((v) => v.volume),
    ...(m.last_synced_snapshot_time === null ? {} : { lastSyncedAt: isoTimeOf(m.last_synced_snapshot_time) }),
    ...(m.lag_seconds === null ? {} : { lagSeconds: m.lag_seconds }),
    lastSyncBytes: m.last_sync_bytes,
    totalBytesSent: m.total_bytes_sent,
    ...(m.last_error === null ? {} : { lastError: m.last_error }),
  };
}

function targetOf(inputs: ReplicationInputs): ReplicationPeer {
  return { url: inputs.targetUrl, ...inputs.targetCredentials, ...(inputs.targetCaCertificate === undefined ? {} : { ca_certificate: inputs.targetCaCertificate }) };
}

async function createReplication(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(ReplicationInputs, bag, "Replication");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.objectId;
    let reply = await client.createReplication(id, {
      name: inputs.name, volume: inputs.volume, volumeGroup: inputs.volumeGroup, target: targetOf(inputs), targetPool: inputs.targetPool,
      rpoSeconds: inputs.rpoSeconds, rateLimitBytesPerSecond: inputs.rateLimitBytesPerSecond,
    });
    if (inputs.initialSync !== false) {
      try {
        reply = await client.syncReplication(id);
      } catch (error) {
        // No half-made relationship: both servers forget it (the replicas made so far stay, writable).
        await client.deleteReplication(id).catch(() => undefined);
        throw error;
      }
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...replicationOutputs(reply) } };
  });
}

/** What an import declares: everything the server shows (credentials cannot be read back: the program declares them). */
function importedInputs(reply: ReplicationView): PropertyBag {
  const m = reply.metadata;
  return {
    ...(m.volume_group === null ? { volume: m.volume } : { volumeGroup: m.volume_group }),
    targetUrl: m.peer_url ?? "",
    targetPool: m.peer_pool_uuid ?? "",
    ...(m.display_name === null ? {} : { name: m.display_name }),
    ...(m.rpo_seconds === null ? {} : { rpoSeconds: m.rpo_seconds }),
    ...(m.rate_limit_bytes_per_second === null ? {} : { rateLimitBytesPerSecond: m.rate_limit_bytes_per_second }),
  };
}

async function readReplication(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getReplication(id);
    if (reply === undefined) return { id: "" };
    const m = reply.metadata;
    const inputs = isImport(props) ? importedInputs(reply) : pick(props, INPUT_KEYS);
    // Drift a refresh shows: the schedule and the rate limit as the server has them.
    if (!isImport(props)) {
      if (m.rpo_seconds === null) delete inputs.rpoSeconds;
      else inputs.rpoSeconds = m.rpo_seconds;
      if (m.rate_limit_bytes_per_second === null) delete inputs.rateLimitBytesPerSecond;
      else inputs.rateLimitBytesPerSecond = m.rate_limit_bytes_per_second;
    }
    return { id, props: { ...props, ...inputs, ...replicationOutputs(reply) }, inputs };
  });
}

/** The settings that changed (null clears a schedule or a limit the program no longer sets). */
function changedSettings(olds: PropertyBag, news: PropertyBag, inputs: ReplicationInputs): ReplicationSettings {
  const settings: ReplicationSettings = {};
  if (differs(olds, news, "name")) settings.name = inputs.name ?? null;
  if (differs(olds, news, "rpoSeconds")) settings.rpoSeconds = inputs.rpoSeconds ?? null;
  if (differs(olds, news, "rateLimitBytesPerSecond")) settings.rateLimitBytesPerSecond = inputs.rateLimitBytesPerSecond ?? null;
  if (differs(olds, news, "targetCredentials") || differs(olds, news, "targetCaCertificate")) settings.target = targetOf(inputs);
  return settings;
}

async function updateReplication(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(ReplicationInputs, news, "Replication");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const settings = changedSettings(olds, news, inputs);
    let reply = Object.keys(settings).length > 0 ? await client.changeReplication(id, settings) : await client.getReplication(id);
    if (differs(olds, news, "syncTriggers")) reply = await client.syncReplication(id);
    if (reply === undefined) throw new Error(`replication ${id} disappeared during the update`);
    return { outs: { ...withInputs(olds, news, INPUT_KEYS), ...replicationOutputs(reply) } };
  });
}

async function deleteReplication(id: string, props: PropertyBag): Promise<void> {
  await withClient(timeoutOf(props), (client) => client.deleteReplication(id));
}

const anotherRelationship = "a replication of other volumes, or to another target, is another relationship (the replicas made so far stay on the target, writable)";
const settingChange = "the relationship's settings change in place";

export const replicationDefinition = defineResource({
  kind: "replication",
  typeName: "Replication",
  description: "Asynchronous, snapshot-based replication of a volume or a volume group to another DPL server: incremental btrfs send streams over the "
    + "servers' authenticated HTTPS, resumable after a cut link, verified before the replica's snapshot is published. The replica is read-only "
    + "until a Failover promotes it. Destroying the resource ends the relationship on both servers; no volume is deleted.",
  inputs: ReplicationFields,
  validation: ReplicationInputs,
  outputs: ReplicationOutputs,
  changes: {
    volume: replacing(anotherRelationship),
    volumeGroup: replacing(anotherRelationship),
    targetUrl: replacing(anotherRelationship),
    targetPool: replacing(anotherRelationship),
    targetCredentials: inPlace("the source logs in to the target with the new credentials"),
    targetCaCertificate: inPlace("the source trusts the new certificate for this target"),
    name: inPlace(settingChange),
    rpoSeconds: inPlace(settingChange),
    rateLimitBytesPerSecond: inPlace(settingChange),
    syncTriggers: inPlace("a sync runs now"),
  },
  stables: ["replicationId", "replicaVolumeIds"],
  // The old relationship holds the volumes: it must end before a new one can carry them.
  deleteBeforeReplace: true,
  secrets: ["targetCredentials"],
  create: createReplication,
  read: readReplication,
  update: updateReplication,
  delete: deleteReplication,
});
