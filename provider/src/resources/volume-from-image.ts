import { z } from "zod";
import { withClient } from "../config/open-client";
import { ImageSource, type VolumeReply } from "../wire";
import { isInsideDirectory, serverImageDirectories } from "./image-directories";
import type { CheckFailure, CreateResult, PropertyBag } from "./hook-types";
import { differs, parseInputs, pick } from "./input-validation";
import { named } from "./lifecycle-inputs";
import { defineResource, replacing } from "./resource-definition";
import { requestedBytes, sizeChanges, sizeInputs } from "./size-inputs";
import {
  BlockVolumeOutputs, adoptVolume, blockVolumeReader, type ImportedSource, blockVolumeUpdater, deleteVolume, shrinkCheck, volumeInputFields, volumeOutputs, volumeSettingChanges,
} from "./volume";

/**
 * A volume whose first contents are an image: a raw or qcow2 file on the server (inside its
 * image directories) or an http(s) URL the server fetches. Changing the image replaces the volume;
 * its size defaults to the image's virtual size and grows in place like any volume's.
 */
const VolumeFromImageFields = z.object({
  ...volumeInputFields,
  image: named(ImageSource, "ImageSourceArgs", "Where the image comes from: exactly one of `path` and `url`.").describe(
    "The image whose disk the volume starts with. Changing it replaces the volume (preview says so and why); "
    + "the old volume and its data are kept unless `deleteDataOnReplace` is true.",
  ),
  ...sizeInputs("the image's virtual size"),
});
export const VolumeFromImageInputs = VolumeFromImageFields
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" });
export type VolumeFromImageInputs = z.output<typeof VolumeFromImageInputs>;

const INPUT_KEYS = Object.keys(VolumeFromImageFields.shape);

/** An imported volume's image, as the server recorded it from the request that made the volume. */
const importedImage: ImportedSource = (_client, reply) => {
  const image = reply.metadata.image_source;
  if (image === undefined) {
    return Promise.reject(new Error(`volume ${reply.objectID} was not made from an image (or by a server that did not record it); import it as dpl:index:Volume`));
  }
  return Promise.resolve({ image });
};

/** A path outside the server's image directories fails check (best effort: see serverImageDirectories). */
async function outsideImageDirectories(file: string): Promise<string | undefined> {
  const directories = await serverImageDirectories();
  if (directories === undefined || directories.some((directory) => isInsideDirectory(file, directory))) return undefined;
  return `is outside the DPL server's image directories (${directories.join(", ")})`;
}

/**
 * Only a new image is checked against the server: one already in the state was accepted then.
 * Checked on its own: the pool is often still unknown at preview.
 */
async function imageOutsideDirectories(olds: PropertyBag, news: PropertyBag): Promise<CheckFailure[]> {
  const image = ImageSource.safeParse(news.image);
  const imagePath = image.success ? image.data.path : undefined;
  if (imagePath === undefined || !differs(olds, news, "image")) return [];
  const outside = await outsideImageDirectories(imagePath);
  return outside === undefined ? [] : [{ property: "image.path", reason: outside }];
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
      reply = await adoptVolume(client, existing, inputs, "VolumeFromImage");
    }
    return { id, outs: { ...pick(bag, INPUT_KEYS), ...volumeOutputs(reply) } };
  });
}

export const volumeFromImageDefinition = defineResource({
  kind: "volumeFromImage",
  typeName: "VolumeFromImage",
  description: "A DPL volume made from a raw or qcow2 image: a file on the server (a raw file on the pool's own filesystem "
    + "becomes a reflink, no data copied) or a URL the server fetches (holes stay holes).",
  inputs: VolumeFromImageFields,
  validation: VolumeFromImageInputs,
  outputs: BlockVolumeOutputs,
  changes: {
    // Another image is another volume's data; everything else changes in place, as for a Volume.
    image: replacing("a volume's image is its data, so another image is another volume"),
    ...volumeSettingChanges,
    // Without a size the volume keeps its image's size.
    ...sizeChanges(true),
  },
  stables: ["volumeId", "image"],
  holdsData: true,
  extraCheck: async (olds, news) => [...shrinkCheck(olds, news), ...await imageOutsideDirectories(olds, news)],
  create: createVolumeFromImage,
  read: blockVolumeReader(INPUT_KEYS, importedImage),
  update: blockVolumeUpdater(VolumeFromImageInputs, "VolumeFromImage", INPUT_KEYS, true),
  delete: deleteVolume,
});
