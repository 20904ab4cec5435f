/**
 * The TypeScript SDK's resource classes, written from the resource definitions: one file per
 * kind (its Args interface and its class), the nested argument and output types, and the shared
 * base class of kinds that report the same outputs (BlockVolume).
 */
import type { ResourceDefinition } from "../resources/resource-definition";
import type { ReferenceKind } from "../resources/lifecycle-inputs";
import { docComment, propertiesOf, recordValueOf, scalarTypesOf, schemaNodeOf, type SchemaNode } from "./json-schema";

export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  text: string;
}

export const SDK_GENERATED_DIR = "sdk/src/generated";
const HEADER = "// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.\n";

/** The SDK's names for what an id input may also be given as (sdk/src/references.ts). */
const REFERENCES: Record<ReferenceKind, { type: string; idOf: string }> = {
  pool: { type: "PoolReference", idOf: "poolIdOf" },
  volume: { type: "VolumeReference", idOf: "volumeIdOf" },
  snapshot: { type: "SnapshotReference", idOf: "snapshotIdOf" },
  volumeGroup: { type: "VolumeGroupReference", idOf: "volumeGroupIdOf" },
};

/** Nested object types met while rendering, by name: rendered once into types.ts. */
class NamedTypes {
  readonly rendered = new Map<string, string[]>();

  use(node: SchemaNode, side: "input" | "output"): string {
    const name = node.sdkName ?? "";
    if (!this.rendered.has(name)) {
      // Reserved before rendering, so a type that contains itself is rendered once.
      this.rendered.set(name, []);
      this.rendered.set(name, renderInterface(name, node, side, this));
    }
    return name;
  }
}

function literalUnion(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(" | ");
}

function scalarType(node: SchemaNode): string {
  const { types, nullable } = scalarTypesOf(node);
  const names = types.map((t) => (t === "integer" ? "number" : t));
  const base = names.length === 0 ? "unknown" : names.join(" | ");
  return nullable ? `${base} | null` : base;
}

/** A type as an argument takes it: every level may be an Input (a value, an Output or a Promise). */
function inputType(node: SchemaNode, types: NamedTypes): string {
  if (node.sdkName !== undefined) return types.use(node, "input");
  if (node.enum !== undefined) return literalUnion(node.enum);
  if (node.items !== undefined) return `pulumi.Input<${inputType(node.items, types)}>[]`;
  const record = recordValueOf(node);
  if (record !== undefined) return `Record<string, pulumi.Input<${inputType(record, types)}>>`;
  if (node.properties !== undefined) {
    return `{ ${propertiesOf(node).map((p) => `${p.name}${p.required ? "" : "?"}: pulumi.Input<${inputType(p.node, types)}>`).join("; ")} }`;
  }
  return scalarType(node);
}

/** A type as the server reports it. */
function outputType(node: SchemaNode, types: NamedTypes): string {
  if (node.sdkName !== undefined) return types.use(node, "output");
  if (node.enum !== undefined) return literalUnion(node.enum);
  if (node.items !== undefined) return `${outputType(node.items, types)}[]`;
  const record = recordValueOf(node);
  if (record !== undefined) return `Record<string, ${outputType(record, types)}>`;
  if (node.properties !== undefined) {
    return `{ ${propertiesOf(node).map((p) => `${p.name}${p.required ? "" : "?"}: ${outputType(p.node, types)}`).join("; ")} }`;
  }
  return scalarType(node);
}

function renderInterface(name: string, node: SchemaNode, side: "input" | "output", types: NamedTypes): string[] {
  const lines = [...docComment(node.sdkDescription, ""), `export interface ${name} {`];
  for (const p of propertiesOf(node)) {
    const type = side === "input" ? `pulumi.Input<${inputType(p.node, types)}>` : outputType(p.node, types);
    lines.push(...docComment(p.node.description, "  "), `  ${p.name}${p.required ? "" : "?"}: ${type};`);
  }
  lines.push("}");
  return lines;
}

/** What an argument's type is, and how its value reaches the provider. */
function argument(name: string, node: SchemaNode, required: boolean, secret: boolean, types: NamedTypes): { type: string; value: string } {
  const arg = `args.${name}`;
  const reference = node.reference ?? node.items?.reference;
  if (reference !== undefined) {
    const { type, idOf } = REFERENCES[reference];
    if (node.items !== undefined) return { type: `${type}[]`, value: required ? `${arg}.map(${idOf})` : `${arg}?.map(${idOf})` };
    return { type, value: required ? `${idOf}(${arg})` : `${arg} === undefined ? undefined : ${idOf}(${arg})` };
  }
  const type = `pulumi.Input<${inputType(node, types)}>`;
  if (!secret) return { type, value: arg };
  return { type, value: required ? `pulumi.secret(${arg})` : `${arg} === undefined ? undefined : pulumi.secret(${arg})` };
}

/** "volumeFromImage" → "volume-from-image", "BlockVolume" → "block-volume". */
function fileNameOf(name: string): string {
  return name.replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Kinds whose outputs schema has a name share a base class of that name declaring them. */
function baseClassOf(definition: ResourceDefinition): string | undefined {
  return schemaNodeOf(definition.outputs, "output").sdkName;
}

function renderOutputs(node: SchemaNode, types: NamedTypes): string[] {
  const lines: string[] = [];
  for (const p of propertiesOf(node)) {
    const type = outputType(p.node, types);
    lines.push(...docComment(p.node.description, "  "), `  declare public readonly ${p.name}: pulumi.Output<${p.required ? type : `${type} | undefined`}>;`);
  }
  return lines;
}

function renderBaseClass(name: string, definition: ResourceDefinition, types: NamedTypes): GeneratedFile {
  const node = schemaNodeOf(definition.outputs, "output");
  const lines = [
    HEADER + 'import * as pulumi from "@pulumi/pulumi";',
    "",
    ...docComment(node.sdkDescription, ""),
    `export abstract class ${name} extends pulumi.dynamic.Resource {`,
    ...renderOutputs(node, types),
    "}",
  ];
  return { path: `${SDK_GENERATED_DIR}/${fileNameOf(name)}.ts`, text: `${lines.join("\n")}\n` };
}

function renderKind(definition: ResourceDefinition, types: NamedTypes): GeneratedFile {
  const inputs = schemaNodeOf(definition.inputs, "input");
  const outputs = schemaNodeOf(definition.outputs, "output");
  const base = baseClassOf(definition);
  const secrets = new Set<string>(definition.secrets ?? []);
  const args: string[] = [];
  const values: string[] = [`      dplKind: ${JSON.stringify(definition.kind)},`];
  const usedReferences = new Set<ReferenceKind>();
  for (const p of propertiesOf(inputs)) {
    if (p.name === "objectId") {
      values.push(`      objectId: declaredId(${JSON.stringify(definition.typeName)}, name),`);
      continue;
    }
    const reference = p.node.reference ?? p.node.items?.reference;
    if (reference !== undefined) usedReferences.add(reference);
    const { type, value } = argument(p.name, p.node, p.required, secrets.has(p.name), types);
    args.push(...docComment(p.node.description, "  "), `  ${p.name}${p.required ? "" : "?"}: ${type};`);
    values.push(`      ${p.name}: ${value},`);
  }
  const inputNames = new Set(Object.keys(inputs.properties ?? {}));
  for (const name of Object.keys(outputs.properties ?? {})) if (!inputNames.has(name)) values.push(`      ${name}: undefined,`);
  const outputLines = base === undefined ? [...renderOutputs(outputs, types), ""] : [];
  const typeImports = [...types.rendered.keys()].filter((name) => usesType([...args, ...outputLines], name));
  const referenceImports = [...usedReferences].sort().flatMap((r) => [REFERENCES[r].idOf, `type ${REFERENCES[r].type}`]);
  const secretOptions = secrets.size === 0
    ? "opts"
    : `{ ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ${[...secrets].map((s) => JSON.stringify(s)).join(", ")}] }`;
  const lines = [
    HEADER + 'import * as pulumi from "@pulumi/pulumi";',
    ...(base === undefined ? [] : [`import { ${base} } from "./${fileNameOf(base)}";`]),
    `import { ${inputNames.has("objectId") ? "declaredId, " : ""}MODULE } from "../declaration";`,
    'import { dplProvider } from "../provider-shim";',
    ...(referenceImports.length === 0 ? [] : [`import { ${referenceImports.join(", ")} } from "../references";`]),
    ...(typeImports.length === 0 ? [] : [`import type { ${typeImports.sort().join(", ")} } from "./types";`]),
    "",
    `export interface ${definition.typeName}Args {`,
    ...args,
    "}",
    "",
    ...docComment(definition.description, ""),
    `export class ${definition.typeName} extends ${base ?? "pulumi.dynamic.Resource"} {`,
    ...outputLines,
    `  constructor(name: string, args: ${definition.typeName}Args, opts?: pulumi.CustomResourceOptions) {`,
    "    super(dplProvider, name, {",
    ...values,
    `    }, ${secretOptions}, MODULE, ${JSON.stringify(definition.typeName)});`,
    "  }",
    "}",
  ];
  return { path: `${SDK_GENERATED_DIR}/${fileNameOf(definition.kind)}.ts`, text: `${lines.join("\n")}\n` };
}

function usesType(lines: readonly string[], name: string): boolean {
  const word = new RegExp(`\\b${name}\\b`);
  return lines.some((line) => !/^\s*(\/\*\*|\*)/.test(line) && word.test(line));
}

/** Every generated SDK file: one per kind, the shared base classes, the nested types and an index. */
export function sdkSources(definitions: readonly ResourceDefinition[]): GeneratedFile[] {
  const types = new NamedTypes();
  const files: GeneratedFile[] = [];
  const bases = new Map<string, ResourceDefinition>();
  for (const definition of definitions) {
    const base = baseClassOf(definition);
    if (base !== undefined && !bases.has(base)) bases.set(base, definition);
  }
  for (const [name, definition] of bases) files.push(renderBaseClass(name, definition, types));
  for (const definition of definitions) files.push(renderKind(definition, types));
  const names = [...types.rendered.keys()].sort();
  files.push({
    path: `${SDK_GENERATED_DIR}/types.ts`,
    text: `${HEADER}import type * as pulumi from "@pulumi/pulumi";\n\n${names.map((n) => (types.rendered.get(n) ?? []).join("\n")).join("\n\n")}\n`,
  });
  const modules = files.map((f) => f.path.slice(SDK_GENERATED_DIR.length + 1, -3)).sort();
  files.push({ path: `${SDK_GENERATED_DIR}/index.ts`, text: `${HEADER}${modules.map((m) => `export * from "./${m}";`).join("\n")}\n` });
  return files;
}
