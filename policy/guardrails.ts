/**
 * The rules of the dpl-guardrails policy pack, as plain functions of a resource's inputs (index.ts
 * wires them into @pulumi/policy). They see the dynamic SDK's resources
 * (`pulumi-nodejs:dynamic/dpl:Volume`, with the kind in `dplKind`) and the native provider's
 * (`dpl:index:Volume`) alike.
 */
import { z } from "zod";
import { RaidLevel } from "@prophetstor/dpl-provider/wire";

const GIB = 2 ** 30;

export type DplKind = "pool" | "volume" | "clone" | "volumeFromImage" | "iscsiExport" | "other";

/** Type tokens name the kind in their last part (`...:Volume`); the dynamic SDK also sends it as `dplKind`. */
const KIND_BY_TYPE_NAME: Readonly<Record<string, DplKind>> = {
  Pool: "pool", Volume: "volume", Clone: "clone", VolumeFromImage: "volumeFromImage", ISCSIExport: "iscsiExport",
};
const DPL_TYPE = /^(?:pulumi-nodejs:dynamic\/dpl|dpl:index):(\w+)$/;

/** The DPL kind of a resource, or undefined when it is not a DPL resource. */
export function dplKindOf(type: string): DplKind | undefined {
  const match = DPL_TYPE.exec(type);
  if (match === null) return undefined;
  return KIND_BY_TYPE_NAME[match[1] ?? ""] ?? "other";
}

/**
 * The named inputs of a resource, read one by one: the policy SDK's props throw on an unknown value
 * when read, so a rule reads only what it checks (an unknown elsewhere must not skip it).
 */
export function inputsNamed(props: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, props[name]]));
}

export const PoolRedundancyConfig = z.object({
  productionTagKey: z.string().min(1).default("environment"),
  productionTagValues: z.array(z.string()).default(["production", "prod"]),
  forbiddenRaidLevels: z.array(RaidLevel).default(["single", "raid0"]),
});
export type PoolRedundancyConfig = z.output<typeof PoolRedundancyConfig>;

/** The pool inputs the rule reads; everything else in the bag is ignored. */
const PoolFacts = z.object({
  raidLevel: RaidLevel.optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

/** A production pool (by its tag) must survive a lost device: no single or raid0 profile. */
export function poolRedundancyViolation(facts: unknown, config: PoolRedundancyConfig): string | undefined {
  const pool = PoolFacts.parse(facts);
  const tag = pool.tags?.[config.productionTagKey];
  if (tag === undefined || !config.productionTagValues.includes(tag)) return undefined;
  // An absent raidLevel is the server's default, single.
  const raid = pool.raidLevel ?? "single";
  if (!config.forbiddenRaidLevels.includes(raid)) return undefined;
  return `the pool is tagged ${config.productionTagKey}=${tag} but its raidLevel is ${raid} (${raid === "raid0" ? "striping: one lost device loses every volume" : "one copy: a lost device loses its data"}); use raid1, raid10 or raid1c3`;
}

export const ExportAccessConfig = z.object({
  requireMutualChap: z.boolean().default(false),
});
export type ExportAccessConfig = z.output<typeof ExportAccessConfig>;

const ExportFacts = z.object({
  initiators: z.array(z.string()).optional(),
  chap: z.object({ username: z.string().optional(), secret: z.string().optional() }).loose().optional(),
  mutualChap: z.object({}).loose().optional(),
});

/** An export names the hosts that may log in and makes them authenticate. */
export function exportAccessViolations(facts: unknown, config: ExportAccessConfig): string[] {
  const target = ExportFacts.parse(facts);
  const problems: string[] = [];
  if (target.initiators === undefined || target.initiators.length === 0) {
    problems.push("initiators must name the hosts (IQNs) allowed to log in");
  }
  if (target.chap === undefined) problems.push("chap must be set: initiators log in with a CHAP username and secret");
  if (config.requireMutualChap && target.mutualChap === undefined) problems.push("mutualChap must be set: the target must authenticate to the initiators too");
  return problems;
}

export const VolumeSizeConfig = z.object({
  maxSizeGib: z.number().positive().default(1024),
});
export type VolumeSizeConfig = z.output<typeof VolumeSizeConfig>;

const SizeFacts = z.object({
  sizeGib: z.number().optional(),
  sizeBytes: z.number().optional(),
});

/** A volume (or clone, or volume from an image) larger than the cap needs the storage team. */
export function volumeSizeViolation(facts: unknown, config: VolumeSizeConfig): string | undefined {
  const size = SizeFacts.parse(facts);
  const gib = size.sizeGib ?? (size.sizeBytes === undefined ? undefined : size.sizeBytes / GIB);
  if (gib === undefined || gib <= config.maxSizeGib) return undefined;
  return `the volume asks for ${+gib.toFixed(3)} GiB, over the cap of ${config.maxSizeGib} GiB (policy config maxSizeGib)`;
}
