import { z } from "zod";
import { withClient } from "../config/open-client";
import { CacheMode, Compression, Description, DisplayName, HexId, ImageSource, type VolumeReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import { isInsideDirectory, serverImageDirectories } from "./image-directories";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { containsUnknown, differs, parseInputs, pick, validateInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";
import { SizeInputs, formatBytes, requestedBytes, requestedBytesOf, shrinkFailure, sizeInputsFor } from "./size-inputs";
import { convergeVolume, volumeOutputs } from "./volume";

/**
 * A volume whose first contents are an image: a raw or qcow2 file on the server (inside its
 * image directories) or an http(s) URL the server fetches. Changing the image replaces the volume;
 * its size defaults to the image's virtual size and grows in place like any volume's.
 */
export const VolumeFromImageInputs = z
  .object({
    objectId: HexId,
    adopt: HexId.optional(),
    pool: HexId,
    image: ImageSource,
    ...SizeInputs,
    thin: z.boolean().optional(),
    name: DisplayName.optional(),
    description: Description.optional(),
    compression: Compression.optional(),
    cacheMode: CacheMode.optional(),
    operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
  })
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" });
export type VolumeFromImageInputs = z.output<typeof VolumeFromImageInputs>;

const INPUT_KEYS = ["objectId", "adopt", "pool", "image", "sizeBytes", "sizeGib", "thin", "name", "description", "compression", "cacheMode", "operationTimeoutSeconds"] as const;
const REPLACE_KEYS = ["pool", "image", "thin", "compression", "cacheMode"] as const;
const UPDATE_KEYS = ["name", "description"] as const;

const thinByDefault = (v: unknown): unknown => v ?? true;

function replaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key, key === "thin" ? thinByDefault : undefined));
}

/** A path outside the server's image directories fails check (best effort: see serverImageDirectories). */
async function outsideImageDirectories(file: string): Promise<string | undefined> {
  const directories = await serverImageDirectories();
  if (directories === undefined || directories.some((directory) => isInsideDirectory(file, directory))) return undefined;
  return `is outside the DPL server's image directories (${directories.join(", ")})`;
}

async function checkVolumeFromImage(olds: PropertyBag, news: PropertyBag): Promise<CheckResult> {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, replaceKeys(olds, news).length > 0) };
  const validation = validateInputs(VolumeFromImageInputs, inputs);
  const failures = validation.ok ? [] : validation.failures;
  const shrink = shrinkFailure(olds, news);
  if (shrink !== undefined) failures.push(shrink);
  // Only a new image is checked against the server: one already in the state was accepted then.
  // Checked on its own: the pool is often still unknown at preview.
  const image = ImageSource.safeParse(news.image);
  const imagePath = image.success ? image.data.path : undefined;
  if (imagePath !== undefined && differs(olds, news, "image")) {
    const outside = await outsideImageDirectories(imagePath);
    if (outside !== undefined) failures.push({ property: "image.path", reason: outside });
  }
  return failures.length > 0 ? { inputs, failures } : { inputs };
}

function diffVolumeFromImage(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = replaceKeys(olds, news);
  const requested = requestedBytesOf(news);
  // Without a size the volume keeps the image's size: dropping the input changes nothing.
  const resized = containsUnknown(news.sizeBytes) || containsUnknown(news.sizeGib) || (requested !== undefined && requested !== olds.sizeBytes);
  const updates = [...UPDATE_KEYS.filter((key) => differs(olds, news, key)), ...(resized ? ["size"] : [])];
  return {
    changes: replaces.length > 0 || updates.length > 0,
    replaces,
    stables: replaces.length > 0 ? [] : ["volumeId", "pool", "image"],
    deleteBeforeReplace: false,
  };
}

function adoptionMismatch(reply: VolumeReply, inputs: VolumeFromImageInputs): string | undefined {
  const m = reply.metadata;
  const problems: string[] = [];
  if (m.pool_uuid !== inputs.pool) problems.push(`it is in pool ${m.pool_uuid}, not ${inputs.pool}`);
  const wanted = requestedBytes(inputs);
  if (wanted !== undefined && wanted !== m.total_capacity) problems.push(`its size is ${formatBytes(m.total_capacity)}, not ${formatBytes(wanted)}`);
  return problems.length === 0 ? undefined : problems.join("; ");
}

async function createVolumeFromImage(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(VolumeFromImageInputs, bag, "VolumeFromImage");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    const existing = await client.getVolume(id);
    if (existing === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt volume ${inputs.adopt}: no such volume on the DPL server`);
    let reply: VolumeReply;
    if (existing === undefined) {
      reply = await client.createVolumeFromImage(id, {
        poolId: inputs.pool,
        image: inputs.image,
        sizeBytes: requestedBytes(inputs),
        thin: inputs.thin,
        name: inputs.name,
        description: inputs.description,
        compression: inputs.compression,
        cacheMode: inputs.cacheMode,
      });
    } else {
      // Adopting never rewrites data: the volume is taken as it is, whatever image made it.
      const mismatch = adoptionMismatch(existing, inputs);
      if (mismatch !== undefined) throw new Error(`cannot adopt volume ${id}: ${mismatch}`);
      recordFoundAtCreate(id);
      reply = existing;
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...volumeOutputs(reply) } };
  });
}

async function readVolumeFromImage(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getVolume(id);
    if (reply === undefined) return { id: "" };
    const previous = pick(props, INPUT_KEYS);
    const { sizeBytes: _b, sizeGib: _g, ...rest } = previous;
    const inputs: PropertyBag = { ...rest, ...sizeInputsFor(previous, reply.metadata.total_capacity) };
    if (previous.name !== undefined) inputs.name = reply.metadata.display_name;
    if (previous.description !== undefined) inputs.description = reply.metadata.display_description ?? "";
    return { id, props: { ...props, ...inputs, ...volumeOutputs(reply) }, inputs };
  });
}

async function updateVolumeFromImage(id: string, _olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  const inputs = parseInputs(VolumeFromImageInputs, news, "VolumeFromImage");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const reply = await convergeVolume(client, id, requestedBytes(inputs), inputs);
    return { outs: { ...pick(news, INPUT_KEYS), ...volumeOutputs(reply) } };
  });
}

async function deleteVolumeFromImage(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  await withClient(timeoutOf(props), (client) => client.deleteVolume(id));
}

export const volumeFromImageHooks: ResourceHooks = {
  check: checkVolumeFromImage,
  diff: (id, olds, news) => Promise.resolve(diffVolumeFromImage(id, olds, news)),
  create: createVolumeFromImage,
  read: readVolumeFromImage,
  update: updateVolumeFromImage,
  delete: deleteVolumeFromImage,
};
