import { z } from "zod";
import { withClient } from "../config/open-client";
import { HexId, ImageFormat, ServerPath, type ImageReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import { serverImageDirectories } from "./image-directories";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { differs, parseInputs, pick, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { OperationTimeoutSeconds, timeoutOf } from "./operation-timeout";

/**
 * A volume (or one of its snapshots) written out as an image file on the server. The file is made
 * once: any change of input makes a new file (replace); deleting the resource deletes the file.
 */
export const ImageExportInputs = z.object({
  objectId: HexId,
  adopt: HexId.optional(),
  volume: HexId,
  snapshot: HexId.optional(),
  format: ImageFormat,
  directory: ServerPath.optional(),
  operationTimeoutSeconds: OperationTimeoutSeconds.optional(),
});
export type ImageExportInputs = z.output<typeof ImageExportInputs>;

const INPUT_KEYS = ["objectId", "adopt", "volume", "snapshot", "format", "directory", "operationTimeoutSeconds"] as const;
const REPLACE_KEYS = ["volume", "snapshot", "format", "directory"] as const;

function replaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
}

async function checkImageExport(olds: PropertyBag, news: PropertyBag): Promise<CheckResult> {
  const inputs = { ...news, objectId: settleObjectId(olds, news, REPLACE_KEYS, replaceKeys(olds, news).length > 0) };
  const validation = validateInputs(ImageExportInputs, inputs);
  const failures = validation.ok ? [] : validation.failures;
  // A new directory must be one of the server's image directories (asked best effort, as for
  // VolumeFromImage); checked on its own, since the volume is often still unknown at preview.
  const directory = ServerPath.safeParse(news.directory);
  if (directory.success && differs(olds, news, "directory")) {
    const directories = await serverImageDirectories();
    if (directories !== undefined && !directories.includes(directory.data)) {
      failures.push({ property: "directory", reason: `is not one of the DPL server's image directories (${directories.join(", ")})` });
    }
  }
  return failures.length > 0 ? { inputs, failures } : { inputs };
}

function diffImageExport(_id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = replaceKeys(olds, news);
  return {
    changes: replaces.length > 0 || differs(olds, news, "operationTimeoutSeconds"),
    replaces,
    stables: replaces.length > 0 ? [] : ["imageId", "path", "format", "virtualBytes", "fileBytes", "allocatedBytes", "contentUri"],
    deleteBeforeReplace: false,
  };
}

export function imageOutputs(reply: ImageReply): PropertyBag {
  const m = reply.metadata;
  return {
    imageId: m.image_uuid,
    path: m.path,
    format: m.format,
    virtualBytes: m.virtual_size,
    fileBytes: m.file_size,
    allocatedBytes: m.allocated_size,
    contentUri: m.content_uri,
  };
}

async function createImageExport(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(ImageExportInputs, bag, "ImageExport");
  return withClient(inputs.operationTimeoutSeconds, async (client) => {
    const id = inputs.adopt ?? inputs.objectId;
    const existing = await client.getImage(id);
    if (existing === undefined && inputs.adopt !== undefined) throw new Error(`cannot adopt image ${inputs.adopt}: no such image on the DPL server`);
    if (existing !== undefined && existing.metadata.format !== inputs.format) {
      throw new Error(`cannot adopt image ${id}: it is ${existing.metadata.format}, not ${inputs.format}`);
    }
    if (existing !== undefined) recordFoundAtCreate(id);
    const reply = existing ?? await client.exportImage(id, {
      sourceVolume: inputs.volume,
      sourceSnapshot: inputs.snapshot,
      format: inputs.format,
      directory: inputs.directory,
    });
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...imageOutputs(reply) } };
  });
}

async function readImageExport(id: string, props: PropertyBag): Promise<ReadResult> {
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getImage(id);
    if (reply === undefined) return { id: "" };
    const inputs = pick(props, INPUT_KEYS);
    return { id, props: { ...props, ...imageOutputs(reply) }, inputs };
  });
}

function updateImageExport(_id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult> {
  // Only the per-call deadline can change in place; it lives in the state, not on the server.
  return Promise.resolve({ outs: withInputs(olds, news, INPUT_KEYS) });
}

async function deleteImageExport(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  await withClient(timeoutOf(props), (client) => client.deleteImage(id));
}

export const imageExportHooks: ResourceHooks = {
  check: checkImageExport,
  diff: (id, olds, news) => Promise.resolve(diffImageExport(id, olds, news)),
  create: createImageExport,
  read: readImageExport,
  update: updateImageExport,
  delete: deleteImageExport,
};
