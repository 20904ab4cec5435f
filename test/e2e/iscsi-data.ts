/**
 * Reads and writes LUNs the way a host would, with libiscsi's user-space initiator
 * (`qemu-io --image-opts driver=iscsi,...`), using the connection info an ISCSIExport outputs.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

async function qemuIo(imageOpts: string, command: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync("qemu-io", ["--image-opts", imageOpts, "-c", command], { timeout: 60_000 });
  return `${stdout}${stderr}`;
}

/** Fills `length` bytes at `offset` with `byte`. */
export async function writePattern(imageOpts: string, byte: number, offset: number, length: number): Promise<void> {
  const out = await qemuIo(imageOpts, `write -P ${byte} ${offset} ${length}`);
  if (!/wrote \d+\/\d+ bytes/.test(out)) throw new Error(`qemu-io write failed: ${out}`);
}

/** True when every byte of the range is `byte` (qemu-io's pattern check). */
export async function holdsPattern(imageOpts: string, byte: number, offset: number, length: number): Promise<boolean> {
  const out = await qemuIo(imageOpts, `read -P ${byte} ${offset} ${length}`);
  if (/Pattern verification failed/.test(out)) return false;
  if (!/read \d+\/\d+ bytes/.test(out)) throw new Error(`qemu-io read failed: ${out}`);
  return true;
}

/** Changes the initiator name in a `--image-opts` string (what a different host would present). */
export function asInitiator(imageOpts: string, initiator: string): string {
  return imageOpts.replace(/initiator-name=[^,]*/, `initiator-name=${initiator}`);
}
