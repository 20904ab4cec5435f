import { z } from "zod";
import { PositiveBytes } from "../wire";
import type { PropertyBag } from "./hook-types";
import { containsUnknown } from "./input-validation";

export const GIB = 2 ** 30;

/** `sizeGib` (may be fractional) as the user writes it; bytes on the wire. */
export const SizeGib = z.number().positive("must be greater than 0").max(2 ** 30, "must be at most 1 EiB");

/** Size inputs shared by Volume and Clone: at most one of sizeGib and sizeBytes. */
export const SizeInputs = {
  sizeBytes: PositiveBytes.optional(),
  sizeGib: SizeGib.optional(),
};

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
