/**
 * The SDK's resource classes and the package schema are generated from the resource definitions
 * (issue 12): the committed copies must be what the generator writes today (run `npm run
 * generate` after changing a definition), and the schema must carry what the definitions say.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../provider/src/codegen/generated-files";
import { SDK_GENERATED_DIR } from "../../provider/src/codegen/sdk-typescript";
import { RESOURCE_DEFINITIONS } from "../../provider/src/resources/registry";

const ROOT = resolve(__dirname, "../..");

interface PackageSchema {
  config: { variables: Record<string, { secret?: boolean }> };
  resources: Record<string, { inputProperties: Record<string, { secret?: boolean; replaceOnChanges?: boolean }>; requiredInputs: string[] }>;
  types: Record<string, unknown>;
}

function committed(path: string): string | undefined {
  try {
    return readFileSync(join(ROOT, path), "utf8");
  } catch {
    return undefined;
  }
}

describe("generated sources", () => {
  const files = generatedFiles(ROOT);

  it("are committed as the generator writes them (npm run generate)", () => {
    const stale = files.filter((file) => committed(file.path) !== file.text).map((file) => file.path);
    expect(stale).toEqual([]);
  });

  it("leave no file in the generated directory that the generator no longer writes", () => {
    const wanted = new Set(files.map((file) => file.path));
    const present = readdirSync(join(ROOT, SDK_GENERATED_DIR)).map((name) => `${SDK_GENERATED_DIR}/${name}`);
    expect(present.filter((path) => !wanted.has(path))).toEqual([]);
  });

  it("give every kind a class and Args in the SDK, and a resource in the schema", () => {
    const schema = JSON.parse(files.find((file) => file.path.endsWith("schema.json"))?.text ?? "{}") as PackageSchema;
    for (const definition of Object.values(RESOURCE_DEFINITIONS)) {
      const sdk = files.map((file) => file.text).join("\n");
      expect(sdk).toContain(`export class ${definition.typeName} extends`);
      expect(sdk).toContain(`export interface ${definition.typeName}Args {`);
      const resource = schema.resources[`dpl:index:${definition.typeName}`];
      expect(resource, definition.typeName).toBeDefined();
      // The SDK's declaration seed is not an input a user gives.
      expect(resource?.inputProperties.objectId).toBeUndefined();
    }
  });

  it("mark what replaces, what is secret, and what is required, as the definitions say", () => {
    const schema = JSON.parse(files.find((file) => file.path.endsWith("schema.json"))?.text ?? "{}") as PackageSchema;
    const clone = schema.resources["dpl:index:Clone"];
    expect(clone?.inputProperties.sourceVolume?.replaceOnChanges).toBe(true);
    expect(clone?.inputProperties.pool?.replaceOnChanges).toBeUndefined();
    // Nothing replaces a pool or a volume: every input changes in place.
    for (const kind of ["Pool", "Volume"]) {
      const replacing = Object.entries(schema.resources[`dpl:index:${kind}`]?.inputProperties ?? {}).filter(([, p]) => p.replaceOnChanges === true);
      expect(replacing, kind).toEqual([]);
    }
    const iscsi = schema.resources["dpl:index:ISCSIExport"];
    expect(iscsi?.inputProperties.chap?.secret).toBe(true);
    expect(iscsi?.inputProperties.mutualChap?.secret).toBe(true);
    expect(iscsi?.requiredInputs.sort()).toEqual(["initiators", "volume"]);
    expect(schema.config.variables.password?.secret).toBe(true);
    expect(Object.keys(schema.types)).toContain("dpl:index:Chap");
  });
});
