import { z } from "zod";
import { withClient } from "../config/open-client";
import { ImageSource, type VolumeReply } from "../wire";
import { isInsideDirectory, serverImageDirectories } from "./image-directories";
import type { CheckResult, CreateResult, DiffResult, PropertyBag, ResourceHooks } from "./hook-types";
import { differs, parseInputs, pick, validateInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { noteReplacement } from "./replacement-guard";
import { requestedBytes, shrinkFailure } from "./size-inputs";
import { adoptVolume, blockVolumeReader, blockVolumeUpdater, deleteVolume, derivedVolumeDiff, volumeInputFields, volumeOutputs } from "./volume";

/**
 * A volume whose first contents are an image: a raw or qcow2 file on the server (inside its
 * image directories) or an http(s) URL the server fetches. Changing the image replaces the volume;
 * its size defaults to the image's virtual size and grows in place like any volume's.
 */
export const VolumeFromImageInputs = z
  .object({ ...volumeInputFields, image: ImageSource })
  .refine((v) => v.sizeBytes === undefined || v.sizeGib === undefined, { path: ["sizeGib"], message: "give sizeGib or sizeBytes, not both" });
export type VolumeFromImageInputs = z.output<typeof VolumeFromImageInputs>;

const INPUT_KEYS = ["objectId", "adopt", "pool", "image", "sizeBytes", "sizeGib", "thin", "name", "description", "compression", "cacheMode", "operationTimeoutSeconds", "deleteDataOnReplace"] as const;
/** Another image is another volume's data; everything else changes in place, as for a Volume. */
const REPLACE_KEYS = ["image"] as const;

function replaceKeys(olds: PropertyBag, news: PropertyBag): string[] {
  return REPLACE_KEYS.filter((key) => differs(olds, news, key));
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

function diffVolumeFromImage(id: string, olds: PropertyBag, news: PropertyBag): DiffResult {
  const replaces = replaceKeys(olds, news);
  noteReplacement("VolumeFromImage", id, replaces, olds, news);
  // Without a size the volume keeps its source's size.
  return derivedVolumeDiff(olds, news, replaces, ["volumeId", "image"]);
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

export const volumeFromImageHooks: ResourceHooks = {
  check: checkVolumeFromImage,
  diff: (id, olds, news) => Promise.resolve(diffVolumeFromImage(id, olds, news)),
  create: createVolumeFromImage,
  read: blockVolumeReader(INPUT_KEYS),
  update: blockVolumeUpdater(VolumeFromImageInputs, "VolumeFromImage", INPUT_KEYS, true),
  delete: deleteVolume,
};
