/**
 * Reads and writes LUNs the way a host would, with the `--image-opts` connection info an
 * ISCSIExport outputs (test/support/iscsi-initiator.ts does the I/O).
 */
export { holdsPattern, writePattern } from "../support/iscsi-initiator";

/** Changes the initiator name in a `--image-opts` string (what a different host would present). */
export function asInitiator(imageOpts: string, initiator: string): string {
  return imageOpts.replace(/initiator-name=[^,]*/, `initiator-name=${initiator}`);
}
