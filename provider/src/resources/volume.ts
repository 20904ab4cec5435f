import { z } from "zod";
import type { DplClient, VolumeChanges } from "../client";
import { withClient } from "../config/open-client";
import { CacheMode, Compression, Description, DisplayName, HexId, type VolumeReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import type { CheckFailure, CreateResult, PropertyBag, ReadResult, UpdateResult } from "./hook-types";
import { parseInputs, pick } from "./input-validation";
import { AdoptInput, DeleteDataOnReplaceInput, named, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { isImport, unlessDefault } from "./import-inputs";
import { heldBackReplacement, keptNotice } from "./replacement-guard";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace } from "./resource-definition";
import { formatBytes, requestedBytes, shrinkFailure, sizeChanges, sizeInputs, sizeInputsFor } from "./size-inputs";

/** A volume's own inputs besides its size; VolumeFromImage takes the same plus its image. */
export const volumeInputFields = {
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  pool: reference(HexId, "pool").describe(
    "The pool the volume lives in: a Pool, a `getPool` result, or a pool id. Changing it moves the volume in place: "
    + "the data is copied, the id and export stay (refused while it has snapshots or logged-in initiators).",
  ),
  thin: z.boolean().optional().describe(
    "Thin (sparse, the default) or thick (all blocks allocated up front). Changed in place: blocks are allocated, or never-written ones given back.",
  ),
  name: DisplayName.optional().describe("Display name (default: the volume id). Changes in place."),
  description: Description.optional().describe("Free-text description. Changes in place."),
  compression: Compression.optional().describe(
    "Per-volume compression: \"none\", \"lzo\", \"zstd\" or \"zstd:<1-15>\". Changed in place: data written from then on uses it, stored data keeps its own.",
  ),
  cacheMode: CacheMode.optional().describe(
    "How the iSCSI target caches this volume's I/O: \"writeback\" (default), \"writethrough\" or \"direct\". "
    + "Changed in place: the LUN is re-added with the new flags; logged-in initiators stay.",
  ),
  operationTimeoutSeconds: OperationTimeoutInput,
  deleteDataOnReplace: DeleteDataOnReplaceInput,
};

const VolumeFields = z.object({ ...volumeInputFields, ...sizeInputs() });
export const VolumeInputs = VolumeFields
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" })
  .refine((v) => v.sizeBytes !== undefined || v.sizeGib !== undefined, { path: ["sizeGib"], message: "is required (or sizeBytes)" });
export type VolumeInputs = z.output<typeof VolumeInputs>;

const INPUT_KEYS = Object.keys(VolumeFields.shape);

/**
 * Every property of a volume changes in place, on the server, keeping its id, data and export: a
 * new compression applies to data written from then on; a new cache mode re-adds the LUN with new
 * flags; thin and thick allocate or give back blocks; a new pool moves the data.
 */
export const volumeSettingChanges = {
  name: inPlace("the volume is renamed on the server"),
  description: inPlace("the description is changed on the server"),
  compression: inPlace("data written from then on uses the new compression; stored data keeps its own"),
  pool: inPlace("the data is copied to the new pool; the id and export stay"),
  thin: inPlace("blocks are allocated, or never-written ones given back", { absentMeans: true }),
  cacheMode: inPlace("the LUN is re-added with the new flags; logged-in initiators stay", { absentMeans: "writeback" }),
};

/** A shrink fails at check time, naming the size input the user wrote. */
export function shrinkCheck(olds: PropertyBag, news: PropertyBag): CheckFailure[] {
  const shrink = shrinkFailure(olds, news);
  return shrink === undefined ? [] : [shrink];
}

/** What the server reports for any volume, whatever kind made it (a clone is an ordinary volume once it exists). */
export const BlockVolumeOutputs = named(z.object({
  volumeId: z.string().describe("The volume's DPL id (32 hex characters), the same as the resource id."),
  sizeBytes: z.number().describe("The volume's logical size in bytes, as the server reports it."),
  usedBytes: z.number().describe("Bytes allocated on the pool for this volume (data shared with a source counts in full)."),
  poolId: z.string().describe("The pool the volume lives in."),
  state: z.string().describe("\"creating\", \"available\", \"deleting\" or \"error\"."),
  displayName: z.string().describe("The name the server shows (the id when no name was given)."),
}), "BlockVolume", "What the server reports for any volume, whichever kind made it: a clone is an ordinary volume once it exists.");

/** What the server decides, as outputs (inputs are carried along so read() can hand them back). */
export function volumeOutputs(reply: VolumeReply): z.output<typeof BlockVolumeOutputs> {
  const m = reply.metadata;
  return {
    volumeId: reply.objectID,
    sizeBytes: m.total_capacity,
    usedBytes: m.used_capacity,
    poolId: m.pool_uuid,
    state: m.state,
    displayName: m.display_name,
  };
}

function withoutSizeInputs(bag: PropertyBag): PropertyBag {
  const { sizeBytes: _bytes, sizeGib: _gib, ...rest } = bag;
  return rest;
}

/** What a declaration expects of an existing volume it takes over (unset: anything goes). */
export interface VolumeExpectation {
  pool?: string | undefined;
  sizeBytes?: number | undefined;
  thin?: boolean | undefined;
}

/** Refuses to take over a volume that is not what the program declares (it would be replaced or resized next). */
export function volumeMismatch(reply: VolumeReply, expected: VolumeExpectation): string | undefined {
  const m = reply.metadata;
  const problems: string[] = [];
  if (expected.pool !== undefined && m.pool_uuid !== expected.pool) problems.push(`it is in pool ${m.pool_uuid}, not ${expected.pool}`);
  const wanted = expected.sizeBytes;
  if (wanted !== undefined && wanted !== m.total_capacity) problems.push(`its size is ${formatBytes(m.total_capacity)}, not ${formatBytes(wanted)}`);
  if (expected.thin !== undefined && expected.thin !== m.properties.thin_provision) problems.push(`it is ${m.properties.thin_provision ? "thin" : "thick"}`);
  return problems.length === 0 ? undefined : problems.join("; ");
}

/** What an adopted volume is checked against: the inputs a Volume, Clone or VolumeFromImage share. */
export interface AdoptedVolumeInputs extends Naming {
  pool?: string | undefined;
  sizeBytes?: number | undefined;
  sizeGib?: number | undefined;
  thin?: boolean | undefined;
}

/**
 * Takes an existing volume as the resource's (Volume, Clone and VolumeFromImage alike): refused
 * when its pool, size or provisioning differs from the program (adopting never changes data),
 * renamed when only its name or description does.
 */
export async function adoptVolume(client: DplClient, reply: VolumeReply, inputs: AdoptedVolumeInputs, kind: string): Promise<VolumeReply> {
  const mismatch = volumeMismatch(reply, { pool: inputs.pool, sizeBytes: requestedBytes(inputs), thin: inputs.thin });
  if (mismatch !== undefined) {
    throw new Error(`cannot adopt volume ${reply.objectID} as a ${kind}: ${mismatch}; make the program match the volume (adopting never changes data)`);
  }
  recordFoundAtCreate(reply.objectID);
  return renameIfNeeded(client, reply, inputs);
}

interface Naming {
  name?: string | undefined;
  description?: string | undefined;
}

async function renameIfNeeded(client: DplClient, reply: VolumeReply, inputs: Naming): Promise<VolumeReply> {
  const m = reply.metadata;
  const rename = inputs.name !== undefined && inputs.name !== m.display_name;
  const redescribe = inputs.description !== undefined && inputs.description !== (m.display_description ?? "");
  if (!rename && !redescribe) return reply;
  return client.modifyVolume(reply.objectID, { name: inputs.name, description: inputs.description });
}

/** What an update brings a volume to; an absent field is left as the server has it. */
export interface VolumeTarget extends Naming {
  sizeBytes?: number | undefined;
  compression?: Compression | undefined;
  cacheMode?: CacheMode | undefined;
  thin?: boolean | undefined;
  pool?: string | undefined;
}

/** The changes that bring the live volume to the target, in one modify (undefined: nothing to do). */
function changesTowards(reply: VolumeReply, target: VolumeTarget): VolumeChanges | undefined {
  const m = reply.metadata;
  const changes: VolumeChanges = {
    ...(target.sizeBytes !== undefined && target.sizeBytes > m.total_capacity ? { sizeBytes: target.sizeBytes } : {}),
    ...(target.compression !== undefined && target.compression !== m.properties.compression ? { compression: target.compression } : {}),
    ...(target.cacheMode !== undefined && target.cacheMode !== m.properties.cache_mode ? { cacheMode: target.cacheMode } : {}),
    ...(target.thin !== undefined && target.thin !== m.properties.thin_provision ? { thin: target.thin } : {}),
    ...(target.pool !== undefined && target.pool !== m.pool_uuid ? { moveToPool: target.pool } : {}),
    ...(target.name !== undefined && target.name !== m.display_name ? { name: target.name } : {}),
    ...(target.description !== undefined && target.description !== (m.display_description ?? "") ? { description: target.description } : {}),
  };
  return Object.keys(changes).length === 0 ? undefined : changes;
}

/** Brings a volume to its target in place: grows (never shrinks), renames, recompresses, re-caches, re-provisions, moves. */
export async function convergeVolume(client: DplClient, id: string, target: VolumeTarget): Promise<VolumeReply> {
  const reply = await client.getVolume(id);
  if (reply === undefined) throw new Error(`volume ${id} no longer exists on the DPL server; run \`pulumi refresh\` to drop it from the state`);
  const current = reply.metadata.total_capacity;
  if (target.sizeBytes !== undefined && target.sizeBytes < current) {
    throw new Error(`cannot shrink volume ${id} from ${formatBytes(current)} to ${formatBytes(target.sizeBytes)}: DPL volumes only grow`);
  }
  const changes = changesTowards(reply, target);
  return changes === undefined ? reply : client.modifyVolume(id, changes);
}

export async function createVolume(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(VolumeInputs, bag, "Volume");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    const existing = await client.getVolume(id);
    if (existing === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt volume ${inputs.adopt}: no such volume on the DPL server`);
    const reply = existing !== undefined
      ? await adoptVolume(client, existing, inputs, "Volume")
      : await client.createVolume(id, {
        poolId: inputs.pool,
        sizeBytes: requestedBytes(inputs) ?? 0,
        thin: inputs.thin ?? true,
        name: inputs.name,
        description: inputs.description,
        compression: inputs.compression,
        cacheMode: inputs.cacheMode,
      });
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...volumeOutputs(reply) } };
  });
}

/** The inputs a kind adds to an imported volume's (a clone's source); the import id may name more than the volume. */
export type ImportedSource = (client: DplClient, reply: VolumeReply, importId: string) => Promise<PropertyBag>;
const noSource: ImportedSource = () => Promise.resolve({});

/** "<source>/<volume id>" imports (clones of a snapshot) name the volume last. */
function importedVolumeId(importId: string): string {
  return importId.split("/").pop() ?? importId;
}

/** An imported volume's inputs: where it is, its size, and the settings that differ from their defaults. */
function importedVolumeInputs(reply: VolumeReply): PropertyBag {
  const m = reply.metadata;
  const settings = {
    thin: unlessDefault(m.properties.thin_provision, true),
    compression: unlessDefault(m.properties.compression, "none"),
    cacheMode: unlessDefault(m.properties.cache_mode, "writeback"),
    name: unlessDefault(m.display_name, reply.objectID),
    description: unlessDefault(m.display_description ?? "", ""),
  };
  return { pool: m.pool_uuid, sizeBytes: m.total_capacity, ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) };
}

/**
 * Refresh for any block volume (Volume, Clone): live outputs, and the inputs the user declared
 * brought in line with the server (size in the unit they used, names when they set them). An
 * import has no declared inputs: they come from the server.
 */
export function blockVolumeReader(inputKeys: readonly string[], importSource: ImportedSource = noSource): (id: string, props: PropertyBag) => Promise<ReadResult> {
  return (importId, props) => withClient(timeoutOf(props), async (client) => {
    const imported = isImport(props);
    const id = imported ? importedVolumeId(importId) : importId;
    const reply = await client.getVolume(id);
    if (reply === undefined) return { id: "" };
    const live = volumeOutputs(reply);
    const previous = pick(imported ? { ...importedVolumeInputs(reply), ...await importSource(client, reply, importId) } : props, inputKeys);
    const inputs: PropertyBag = { ...withoutSizeInputs(previous), ...sizeInputsFor(previous, reply.metadata.total_capacity) };
    if (previous.name !== undefined) inputs.name = reply.metadata.display_name;
    if (previous.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...live }, inputs };
  });
}

export const readVolume = blockVolumeReader(INPUT_KEYS);

/** What update needs of any block volume's parsed inputs. */
type ConvergeInputs = Omit<VolumeTarget, "sizeBytes"> & {
  sizeBytes?: number | undefined; sizeGib?: number | undefined; operationTimeoutSeconds?: number | undefined;
};

/**
 * Update for any block volume (Volume, Clone, VolumeFromImage), all in place. Kinds that own
 * their defaults (Volume, VolumeFromImage) go back to them when an input is removed (compression
 * "none", thin, writeback); a Clone leaves what it got from its source.
 */
export function blockVolumeUpdater(
  schema: z.ZodType<ConvergeInputs>, kind: string, inputKeys: readonly string[], ownsDefaults = false,
): (id: string, olds: PropertyBag, news: PropertyBag) => Promise<UpdateResult> {
  return (id, _olds, news) => {
    const inputs: ConvergeInputs = parseInputs(schema, news, kind);
    return withClient(inputs.operationTimeoutSeconds, async (client) => {
      const defaults = ownsDefaults ? { compression: "none", thin: true, cacheMode: "writeback" as const } : {};
      const reply = await convergeVolume(client, id, {
        ...defaults, ...definedOnly({ ...inputs, sizeBytes: requestedBytes(inputs) }),
      });
      return { outs: { ...pick(news, inputKeys), ...volumeOutputs(reply) } };
    });
  };
}

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const updateVolume = blockVolumeUpdater(VolumeInputs, "Volume", INPUT_KEYS, true);

/** Delete of any block volume; the old volume of a replacement that holds data is kept (replacement-guard.ts). */
export async function deleteVolume(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  const held = heldBackReplacement(id);
  await withClient(timeoutOf(props), async (client) => {
    if (held !== undefined) {
      const used = (await client.getVolume(id))?.metadata.used_capacity ?? 0;
      if (used > 0) {
        process.stderr.write(keptNotice(id, held, used));
        return;
      }
    }
    await client.deleteVolume(id);
  });
}

export const volumeDefinition = defineResource({
  kind: "volume",
  typeName: "Volume",
  description: "A DPL volume: a block device on a pool, thin or thick, that can be exported over iSCSI.",
  inputs: VolumeFields,
  validation: VolumeInputs,
  outputs: BlockVolumeOutputs,
  changes: { ...volumeSettingChanges, ...sizeChanges(false) },
  stables: ["volumeId"],
  holdsData: true,
  extraCheck: shrinkCheck,
  create: createVolume,
  read: readVolume,
  update: updateVolume,
  delete: deleteVolume,
});
