import { dirname } from "node:path";
import { z } from "zod";
import type { DplClient } from "../client";
import { withClient } from "../config/open-client";
import { HexId, ImageFormat, ServerPath, type ImageReply } from "../wire";
import { claimedByReplacement, recordFoundAtCreate } from "./found-at-create";
import { serverImageDirectories } from "./image-directories";
import type { CheckFailure, CreateResult, PropertyBag, ReadResult } from "./hook-types";
import { childAddress, isImport } from "./import-inputs";
import { differs, parseInputs, pick } from "./input-validation";
import { AdoptInput, ObjectIdInput, OperationTimeoutInput, reference } from "./lifecycle-inputs";
import { timeoutOf } from "./operation-timeout";
import { defineResource, inPlace, replacing } from "./resource-definition";

/**
 * A volume (or one of its snapshots) written out as an image file on the server. The file is made
 * once: any change of input makes a new file (replace); deleting the resource deletes the file.
 */
export const ImageExportInputs = z.object({
  objectId: ObjectIdInput,
  adopt: AdoptInput,
  volume: reference(HexId, "volume").describe("The volume to write out (a Volume, Clone, VolumeFromImage or id). Changing it makes a new image."),
  snapshot: reference(HexId, "snapshot").optional().describe("Write this snapshot of the volume instead of its current data (a consistent point in time)."),
  format: ImageFormat.describe("\"raw\" (in the pool's own directory: a reflink, no data copied) or \"qcow2\" (only allocated clusters)."),
  directory: ServerPath.optional().describe("One of the server's image directories; default: the source pool's own `images/` directory."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export type ImageExportInputs = z.output<typeof ImageExportInputs>;

const ImageExportOutputs = z.object({
  imageId: z.string().describe("The image's DPL id (32 hex characters), the same as the resource id."),
  path: z.string().describe("The image file on the server."),
  format: z.string(),
  virtualBytes: z.number().describe("Size of the disk the image holds."),
  fileBytes: z.number().describe("Length of the image file."),
  allocatedBytes: z.number().describe("Bytes the file takes on the server's disk."),
  contentUri: z.string().describe("Path (under the server's URL) that streams the image's bytes."),
});

const INPUT_KEYS = Object.keys(ImageExportInputs.shape);

/**
 * A new directory must be one of the server's image directories (asked best effort, as for
 * VolumeFromImage); checked on its own, since the volume is often still unknown at preview.
 */
async function directoryCheck(olds: PropertyBag, news: PropertyBag): Promise<CheckFailure[]> {
  const directory = ServerPath.safeParse(news.directory);
  if (!directory.success || !differs(olds, news, "directory")) return [];
  const directories = await serverImageDirectories();
  if (directories === undefined || directories.includes(directory.data)) return [];
  return [{ property: "directory", reason: `is not one of the DPL server's image directories (${directories.join(", ")})` }];
}

export function imageOutputs(reply: ImageReply): z.output<typeof ImageExportOutputs> {
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

/**
 * An imported image's inputs. The server keeps the file, not what it was written from, so the
 * import id names the source volume ("<volume id>/<image id>"); the directory is declared when it
 * is one of the server's image directories (else it is the pool's own, the default).
 */
async function importedImageInputs(client: DplClient, reply: ImageReply, volume: string): Promise<PropertyBag> {
  const directory = dirname(reply.metadata.path);
  const { directories } = await client.listImages();
  return { volume, format: reply.metadata.format, ...(directories.includes(directory) ? { directory } : {}) };
}

async function readImageExport(importId: string, props: PropertyBag): Promise<ReadResult> {
  const imported = isImport(props);
  const { parent: volume, id } = imported ? childAddress(importId, undefined, { what: "an image", parent: "volume id", own: "image id" }) : { parent: "", id: importId };
  return withClient(timeoutOf(props), async (client) => {
    const reply = await client.getImage(id);
    if (reply === undefined) return { id: "" };
    const inputs = imported ? await importedImageInputs(client, reply, volume) : pick(props, INPUT_KEYS);
    return { id, props: { ...props, ...inputs, ...imageOutputs(reply) }, inputs };
  });
}

async function deleteImageExport(id: string, props: PropertyBag): Promise<void> {
  if (claimedByReplacement(id)) return;
  await withClient(timeoutOf(props), (client) => client.deleteImage(id));
}

const newImage = "an image is written once: another source, format or place is another image";

export const imageExportDefinition = defineResource({
  kind: "imageExport",
  typeName: "ImageExport",
  description: "A volume or snapshot written out as an image file on the DPL server. Download it with "
    + "`GET <server>/v1/dpl_image/<imageId>/content` (`contentUri`); deleting the resource deletes the file.",
  inputs: ImageExportInputs,
  outputs: ImageExportOutputs,
  changes: {
    volume: replacing(newImage),
    snapshot: replacing(newImage),
    format: replacing(newImage),
    directory: replacing(newImage),
    // Only the per-call deadline can change in place; it lives in the state, not on the server.
    operationTimeoutSeconds: inPlace("only the Pulumi state changes"),
  },
  stables: ["imageId", "path", "format", "virtualBytes", "fileBytes", "allocatedBytes", "contentUri"],
  extraCheck: directoryCheck,
  create: createImageExport,
  read: readImageExport,
  delete: deleteImageExport,
});
