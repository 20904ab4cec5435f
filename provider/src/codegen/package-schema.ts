/**
 * The Pulumi package schema (schema.json) of the DPL resources, written from the same
 * definitions as the SDK: the native provider answers GetSchema with it, and `pulumi package
 * gen-sdk` makes the Python and Go SDKs from it.
 */
import { ProviderConfig, SECRET_CONFIG_KEYS } from "../config/connection-settings";
import { replacingInputs, type ResourceDefinition } from "../resources/resource-definition";
import { propertiesOf, recordValueOf, scalarTypesOf, schemaNodeOf, type SchemaNode } from "./json-schema";

export const PACKAGE_NAME = "dpl";
export const PACKAGE_SCHEMA_PATH = "provider/schema.json";

/** A property as the Pulumi schema spells it. */
export interface SchemaProperty {
  type?: string;
  $ref?: string;
  items?: SchemaProperty;
  additionalProperties?: SchemaProperty;
  description?: string;
  secret?: boolean;
  replaceOnChanges?: boolean;
}

interface ObjectType {
  type: "object";
  description?: string;
  properties: Record<string, SchemaProperty>;
  required?: string[];
}

const token = (name: string): string => `${PACKAGE_NAME}:index:${name}`;

/** "ChapArgs" names the input form in TypeScript; the schema names the type, and each SDK adds its own suffix. */
const typeNameOf = (sdkName: string): string => sdkName.replace(/Args$/, "");

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

class SchemaTypes {
  readonly types: Record<string, ObjectType> = {};

  /** Nested objects become named types (the schema has no anonymous objects); unnamed ones are named by their path. */
  property(node: SchemaNode, path: string): SchemaProperty {
    const described = node.description === undefined ? {} : { description: node.description };
    if (node.items !== undefined) return { type: "array", items: this.property(node.items, path), ...described };
    const record = recordValueOf(node);
    if (record !== undefined) return { type: "object", additionalProperties: this.property(record, path), ...described };
    if (node.properties !== undefined) {
      const name = node.sdkName === undefined ? path : typeNameOf(node.sdkName);
      this.define(name, node);
      return { $ref: `#/types/${token(name)}`, ...described };
    }
    if (node.enum !== undefined) return { type: typeof node.enum[0] === "number" ? "number" : "string", ...described };
    const [first] = scalarTypesOf(node).types;
    if (first === undefined) return { $ref: "pulumi.json#/Any", ...described };
    return { type: first, ...described };
  }

  private define(name: string, node: SchemaNode): void {
    if (this.types[token(name)] !== undefined) return;
    const properties: Record<string, SchemaProperty> = {};
    const required = propertiesOf(node).filter((p) => p.required).map((p) => p.name);
    const description = node.sdkDescription ?? node.description;
    const type: ObjectType = {
      type: "object", ...(description === undefined ? {} : { description }), properties, ...(required.length > 0 ? { required } : {}),
    };
    this.types[token(name)] = type;
    for (const p of propertiesOf(node)) properties[p.name] = this.property(p.node, `${name}${capitalized(p.name)}`);
  }
}

/** The inputs the schema offers: all but the SDK's declaration seed (a native provider derives the id from the URN). */
function schemaInputs(definition: ResourceDefinition): ReturnType<typeof propertiesOf> {
  return propertiesOf(schemaNodeOf(definition.inputs, "input")).filter((p) => p.name !== "objectId");
}

function resourceSchema(definition: ResourceDefinition, types: SchemaTypes): Record<string, unknown> {
  const secrets = new Set<string>(definition.secrets ?? []);
  const replaced = new Set(replacingInputs(definition));
  const inputProperties: Record<string, SchemaProperty> = {};
  for (const p of schemaInputs(definition)) {
    inputProperties[p.name] = {
      ...types.property(p.node, `${definition.typeName}${capitalized(p.name)}`),
      ...(secrets.has(p.name) ? { secret: true } : {}),
      ...(replaced.has(p.name) ? { replaceOnChanges: true } : {}),
    };
  }
  const outputs = propertiesOf(schemaNodeOf(definition.outputs, "output"));
  const properties: Record<string, SchemaProperty> = { ...inputProperties };
  for (const p of outputs) properties[p.name] = types.property(p.node, `${definition.typeName}${capitalized(p.name)}`);
  const requiredInputs = schemaInputs(definition).filter((p) => p.required).map((p) => p.name);
  return {
    description: definition.description,
    properties,
    required: [...new Set([...requiredInputs, ...outputs.filter((p) => p.required).map((p) => p.name)])],
    inputProperties,
    requiredInputs,
  };
}

function configVariables(types: SchemaTypes): Record<string, SchemaProperty> {
  const variables: Record<string, SchemaProperty> = {};
  for (const p of propertiesOf(schemaNodeOf(ProviderConfig, "input"))) {
    const secret = (SECRET_CONFIG_KEYS as readonly string[]).includes(p.name);
    variables[p.name] = { ...types.property(p.node, p.name), ...(secret ? { secret: true } : {}) };
  }
  return variables;
}

/** The whole package schema, as JSON text with a trailing newline (what is committed). */
export function packageSchemaText(definitions: readonly ResourceDefinition[], version: string): string {
  const types = new SchemaTypes();
  const resources: Record<string, unknown> = {};
  for (const definition of definitions) resources[token(definition.typeName)] = resourceSchema(definition, types);
  const config = configVariables(types);
  const schema = {
    name: PACKAGE_NAME,
    displayName: "ProphetStor DPL",
    version,
    description: "Pools, volumes, snapshots, clones and iSCSI exports on a ProphetStor DPL storage server.",
    keywords: ["pulumi", "storage", "iscsi", "dpl", "category/infrastructure"],
    license: "Apache-2.0",
    publisher: "ProphetStor",
    config: { variables: config },
    provider: { description: "The DPL server the resources live on.", inputProperties: config },
    types: Object.fromEntries(Object.entries(types.types).sort(([a], [b]) => a.localeCompare(b))),
    resources,
    // `pulumi package gen-sdk` then writes package files (go.mod, setup.py, package.json) with this version.
    meta: { supportPack: true },
    language: {
      nodejs: { packageName: "@prophetstor/pulumi-dpl-native", respectSchemaVersion: true },
      python: { packageName: "pulumi_dpl", respectSchemaVersion: true },
      go: { importBasePath: "github.com/prophetstor/pulumi-dpl/sdk/go/dpl", respectSchemaVersion: true },
    },
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
