import { cpus, release, totalmem } from "node:os";

/** "2 cores, 24 GiB, Intel Xeon …, Linux 6.1" — what a reader needs to compare runs. */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  const gib = Math.round(totalmem() / 2 ** 30);
  return `${cores.length} cores, ${gib} GiB, ${model}, Linux ${release()}`;
}
