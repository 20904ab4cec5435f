import { z } from "zod";
import { PositiveBytes } from "../wire";
import type { PropertyBag } from "./hook-types";
import { containsUnknown } from "./input-validation";
import { inPlace, type InputChange } from "./resource-definition";

export const GIB = 2 ** 30;

/** `sizeGib` (may be fractional) as the user writes it; bytes on the wire. */
export const SizeGib = z.number().positive("must be greater than 0").max(2 ** 30, "must be at most 1 EiB");

/** Size inputs shared by every volume kind: at most one of sizeGib and sizeBytes. */
export function sizeInputs(defaultSize?: string): { sizeBytes: z.ZodOptional<typeof PositiveBytes>; sizeGib: z.ZodOptional<typeof SizeGib> } {
  const unit = (name: string, other: string): string => defaultSize === undefined
    ? `Size in ${name}${name === "GiB" ? " (may be fractional)" : ""}. Give this or \`${other}\`. Growing it extends the volume in place; shrinking is refused.`
    : `Size in ${name}; at least ${defaultSize} (default: that size). Growing it extends in place; shrinking is refused.`;
  return {
    sizeBytes: PositiveBytes.optional().describe(unit("bytes", "sizeGib")),
    sizeGib: SizeGib.optional().describe(unit("GiB", "sizeBytes")),
  };
}

/**
 * The change rules of the two size inputs: a new size extends the volume in place. With
 * `defaultsToSource` an absent size means the source's size (Clone, VolumeFromImage): dropping
 * it changes nothing.
 */
export function sizeChanges(defaultsToSource: boolean): { sizeGib: InputChange; sizeBytes: InputChange } {
  const resized = (olds: PropertyBag, news: PropertyBag): boolean => {
    if (containsUnknown(news.sizeBytes) || containsUnknown(news.sizeGib)) return true;
    const requested = requestedBytesOf(news);
    return requested === undefined ? !defaultsToSource : requested !== olds.sizeBytes;
  };
  const why = "the volume is extended in place (it never shrinks)";
  return {
    sizeGib: inPlace(why, { changed: (olds, news) => resized(olds, news) && news.sizeGib !== undefined }),
    sizeBytes: inPlace(why, { changed: (olds, news) => resized(olds, news) && news.sizeGib === undefined }),
  };
}

export function requestedBytes(inputs: { sizeBytes?: number | undefined; sizeGib?: number | undefined }): number | undefined {
  if (inputs.sizeBytes !== undefined) return inputs.sizeBytes;
  if (inputs.sizeGib !== undefined) return Math.round(inputs.sizeGib * GIB);
  return undefined;
}

/** The requested size of a raw property bag; undefined when not given or not yet known. */
export function requestedBytesOf(bag: PropertyBag): number | undefined {
  if (containsUnknown(bag.sizeBytes) || containsUnknown(bag.sizeGib)) return undefined;
  const bytes = typeof bag.sizeBytes === "number" ? bag.sizeBytes : undefined;
  const gib = typeof bag.sizeGib === "number" ? bag.sizeGib : undefined;
  return requestedBytes({ sizeBytes: bytes, sizeGib: gib });
}

export function formatBytes(bytes: number): string {
  return bytes % GIB === 0 ? `${bytes / GIB} GiB` : `${bytes} bytes`;
}

/** A shrink request is refused at check time, naming the property the user wrote. */
export function shrinkFailure(olds: PropertyBag, news: PropertyBag): { property: string; reason: string } | undefined {
  const before = requestedBytesOf(olds);
  const after = requestedBytesOf(news);
  if (before === undefined || after === undefined || after >= before) return undefined;
  return {
    property: news.sizeGib !== undefined ? "sizeGib" : "sizeBytes",
    reason: `cannot shrink a volume from ${formatBytes(before)} to ${formatBytes(after)}: DPL volumes only grow (replace the volume to make it smaller)`,
  };
}

/**
 * The size inputs read() hands back after a refresh: the live size in the unit the user wrote
 * (GiB when it is a whole number of GiB), so a volume grown behind Pulumi's back shows as drift.
 */
export function sizeInputsFor(previous: PropertyBag, liveBytes: number): PropertyBag {
  if (previous.sizeGib !== undefined && liveBytes % GIB === 0) return { sizeGib: liveBytes / GIB };
  if (previous.sizeGib === undefined && previous.sizeBytes === undefined) return {};
  return { sizeBytes: liveBytes };
}
