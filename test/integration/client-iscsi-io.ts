/**
 * Host-side data access for the client's integration tests: libiscsi's user-space initiator via
 * qemu-io / qemu-img (`--image-opts driver=iscsi,...`), addressed by the connection info the
 * client's assignIscsi returns.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { IscsiConnection } from "../../provider/src/client";

const execFileAsync = promisify(execFile);

// An IscsiConnection carries everything a LunAddress needs (portal, target, LUN, initiator).
export { holdsPattern, writePattern } from "../support/iscsi-initiator";

export function iscsiImageOpts(connection: IscsiConnection): string {
  return [
    "driver=iscsi",
    "transport=tcp",
    `portal=${connection.portal}`,
    `target=${connection.targetIqn}`,
    `lun=${connection.lun}`,
    `initiator-name=${connection.initiator}`,
  ].join(",");
}

/** Copies a local raw file onto the start of the LUN. */
export async function writeFileToLun(file: string, connection: IscsiConnection): Promise<void> {
  // --target-image-opts rules out -O: the target's driver comes from its options.
  await execFileAsync("qemu-img", ["convert", "-n", "-f", "raw", "--target-image-opts", file, iscsiImageOpts(connection)], { timeout: 600_000 });
}

/** True when the first `length` bytes of the LUN equal the file (of that length). */
export async function lunMatchesFile(file: string, connection: IscsiConnection, length: number): Promise<boolean> {
  // The raw driver's size option limits the LUN to the file's length, so the rest is not read.
  const lunPrefix = `driver=raw,size=${length},${iscsiImageOpts(connection).split(",").map((o) => `file.${o}`).join(",")}`;
  try {
    await execFileAsync("qemu-img", ["compare", "--image-opts", `driver=raw,file.driver=file,file.filename=${file}`, lunPrefix], { timeout: 600_000 });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}
