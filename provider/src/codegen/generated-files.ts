/**
 * Everything generated from the resource definitions, with where it lives: the TypeScript SDK's
 * resource classes and the package schema. `npm run generate` writes these; a unit test fails
 * when the committed copies differ (test/unit/generated-sources.test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RESOURCE_DEFINITIONS } from "../resources/registry";
import { PACKAGE_SCHEMA_PATH, packageSchemaText } from "./package-schema";
import { sdkSources, type GeneratedFile } from "./sdk-typescript";

/** The provider package's version: the schema's, and the native plugin's. */
export function providerVersion(repositoryRoot: string): string {
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, "provider", "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

export function generatedFiles(repositoryRoot: string): GeneratedFile[] {
  const definitions = Object.values(RESOURCE_DEFINITIONS);
  return [
    ...sdkSources(definitions),
    { path: PACKAGE_SCHEMA_PATH, text: packageSchemaText(definitions, providerVersion(repositoryRoot)) },
  ];
}
