import path from "node:path";
import { withClient } from "../config/open-client";

/** Asking the server at preview must not hold the preview up. */
const PROBE_SECONDS = 5;

/**
 * The directories the DPL server reads and writes image files in, asked at check time (best
 * effort): undefined when the server cannot be asked (not configured, unreachable), in which case
 * the server's own check at create still refuses a bad path, naming the field.
 */
export async function serverImageDirectories(): Promise<string[] | undefined> {
  try {
    return await withClient(PROBE_SECONDS, async (client) => (await client.listImages()).directories);
  } catch {
    return undefined;
  }
}

/** True when `candidate` is below `directory` (both absolute, normalised server paths). */
export function isInsideDirectory(candidate: string, directory: string): boolean {
  const relative = path.posix.relative(directory, candidate);
  return relative !== "" && !relative.startsWith("..") && !path.posix.isAbsolute(relative);
}
