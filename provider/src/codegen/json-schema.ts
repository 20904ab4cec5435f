/**
 * The JSON Schema of a definition's inputs or outputs, as zod writes it, with the two marks the
 * resource definitions add (lifecycle-inputs.ts): `reference` (an id the SDK also takes as a
 * resource) and `sdkName` (a nested object with a name of its own). Both generators read this.
 */
import { z } from "zod";
import type { ReferenceKind } from "../resources/lifecycle-inputs";

export interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
  description?: string;
  reference?: ReferenceKind;
  sdkName?: string;
  sdkDescription?: string;
}

/** zod's JSON Schema of one side of a definition; refinements and transforms have no JSON form and are left out. */
export function schemaNodeOf(schema: z.ZodType, io: "input" | "output"): SchemaNode {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" }) as SchemaNode;
}

/** The object's properties in declaration order, each with whether it is required. */
export function propertiesOf(node: SchemaNode): { name: string; node: SchemaNode; required: boolean }[] {
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).map(([name, child]) => ({ name, node: child, required: required.has(name) }));
}

/** A record's value schema (an object whose keys are free). */
export function recordValueOf(node: SchemaNode): SchemaNode | undefined {
  return node.properties === undefined && typeof node.additionalProperties === "object" ? node.additionalProperties : undefined;
}

/** The scalar types a node allows besides null, and whether null is one of them. */
export function scalarTypesOf(node: SchemaNode): { types: string[]; nullable: boolean } {
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  return { types: types.filter((t) => t !== "null"), nullable: types.includes("null") };
}

/** The text of a doc comment, wrapped for source files (`*\/` cannot appear inside one). */
export function docComment(text: string | undefined, indent: string): string[] {
  if (text === undefined || text === "") return [];
  const safe = text.replaceAll("*/", "*\\/");
  if (safe.length + indent.length <= 110) return [`${indent}/** ${safe} */`];
  const lines: string[] = [`${indent}/**`];
  let line = "";
  for (const word of safe.split(/\s+/)) {
    if (line !== "" && indent.length + 3 + line.length + 1 + word.length > 110) {
      lines.push(`${indent} * ${line}`);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(`${indent} * ${line}`);
  lines.push(`${indent} */`);
  return lines;
}
