/**
 * dpl-guardrails: what a storage team asks of every DPL program before it reaches a server.
 *
 *   pulumi preview --policy-pack <this directory> [--policy-pack-config config.json]
 *
 * Every policy is mandatory (a violation fails preview and up); a policy's config can lower it to
 * advisory or disabled, or change its limits (the config's shape and defaults are the zod schemas
 * in guardrails.ts).
 */
import { PolicyPack, type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import {
  dplKindOf, exportAccessViolations, inputsNamed, ExportAccessConfig, poolRedundancyViolation, PoolRedundancyConfig, volumeSizeViolation, VolumeSizeConfig, type DplKind,
} from "./guardrails";

/** The policy's config schema, as the engine validates `--policy-pack-config`, from the zod schema. */
function configSchemaOf(schema: z.ZodObject): PolicyConfigSchema {
  const json = z.toJSONSchema(schema, { io: "input" }) as { properties?: PolicyConfigSchema["properties"] };
  return { properties: json.properties ?? {} };
}

const SIZED_KINDS: readonly DplKind[] = ["volume", "clone", "volumeFromImage"];

const productionPoolRedundancy: ResourceValidationPolicy = {
  name: "dpl-production-pool-redundancy",
  description: "Pools tagged as production keep a copy of every block on another device (no single or raid0).",
  configSchema: configSchemaOf(PoolRedundancyConfig),
  validateResource: (args, reportViolation) => {
    if (dplKindOf(args.type) !== "pool") return;
    const problem = poolRedundancyViolation(inputsNamed(args.props, ["raidLevel", "tags"]), PoolRedundancyConfig.parse(args.getConfig()));
    if (problem !== undefined) reportViolation(problem);
  },
};

const exportAccessControl: ResourceValidationPolicy = {
  name: "dpl-export-access-control",
  description: "iSCSI exports name the initiators allowed to log in and authenticate them with CHAP.",
  configSchema: configSchemaOf(ExportAccessConfig),
  validateResource: (args, reportViolation) => {
    if (dplKindOf(args.type) !== "iscsiExport") return;
    const facts = inputsNamed(args.props, ["initiators", "chap", "mutualChap"]);
    for (const problem of exportAccessViolations(facts, ExportAccessConfig.parse(args.getConfig()))) reportViolation(problem);
  },
};

const volumeSizeCap: ResourceValidationPolicy = {
  name: "dpl-volume-size-cap",
  description: "No volume, clone or volume from an image is larger than the cap (default 1024 GiB).",
  configSchema: configSchemaOf(VolumeSizeConfig),
  validateResource: (args, reportViolation) => {
    const kind = dplKindOf(args.type);
    if (kind === undefined || !SIZED_KINDS.includes(kind)) return;
    const problem = volumeSizeViolation(inputsNamed(args.props, ["sizeGib", "sizeBytes"]), VolumeSizeConfig.parse(args.getConfig()));
    if (problem !== undefined) reportViolation(problem);
  },
};

new PolicyPack("dpl-guardrails", {
  enforcementLevel: "mandatory",
  policies: [productionPoolRedundancy, exportAccessControl, volumeSizeCap],
});
