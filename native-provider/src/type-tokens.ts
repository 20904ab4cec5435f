/**
 * Pulumi type tokens (`dpl:index:Volume`) and the resource kinds behind them: the tokens are the
 * package schema's, written from the same definitions, so the two cannot name different types.
 */
import { declaredObjectId, RESOURCE_DEFINITIONS, resourceHooks, type PropertyBag, type ResourceDefinition, type ResourceHooks } from "@prophetstor/dpl-provider";

const PACKAGE = "dpl";

/** `dpl:index:<TypeName>` of a definition. */
export function typeTokenOf(definition: Pick<ResourceDefinition, "typeName">): string {
  return `${PACKAGE}:index:${definition.typeName}`;
}

const DEFINITIONS_BY_TOKEN = new Map<string, ResourceDefinition>(
  Object.values(RESOURCE_DEFINITIONS).map((definition) => [typeTokenOf(definition), definition]),
);

/** The request's type token; older engines leave `type` empty and only the URN carries it. */
export function typeOf(type: string, urn: string): string {
  return type !== "" ? type : (urn.split("::")[2] ?? "");
}

function definitionOf(token: string): ResourceDefinition {
  const definition = DEFINITIONS_BY_TOKEN.get(token);
  if (definition === undefined) {
    throw new Error(`pulumi-resource-dpl has no resource type "${token}" (known: ${[...DEFINITIONS_BY_TOKEN.keys()].join(", ")})`);
  }
  return definition;
}

/** The hooks serving a type: the same ones the dynamic provider calls for that kind. */
export function hooksOfType(token: string): ResourceHooks {
  return resourceHooks(definitionOf(token).kind);
}

/** The properties of a type that the state keeps as secrets. */
export function secretOutputsOfType(token: string): readonly string[] {
  return definitionOf(token).secrets ?? [];
}

/**
 * The inputs with the declaration seed of the object's DPL id, which the Node SDK computes in the
 * program and a native program cannot: from the URN's project, stack and name, the same seed the
 * SDK would give, so a stack moved between the two front doors keeps deriving the same ids.
 */
export function withDeclarationSeed(token: string, urn: string, news: PropertyBag): PropertyBag {
  const definition = definitionOf(token);
  if (!Object.hasOwn(definition.inputs.shape, "objectId") || typeof news.objectId === "string") return news;
  // urn:pulumi:<stack>::<project>::<type>::<name>
  const [head, project, , ...nameParts] = urn.split("::");
  const stack = head?.split(":")[2];
  if (stack === undefined || project === undefined) return news;
  return { ...news, objectId: declaredObjectId(project, stack, `${PACKAGE}:${definition.typeName}`, nameParts.join("::")) };
}
