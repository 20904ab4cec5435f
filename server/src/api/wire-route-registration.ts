/**
 * The server's routes come from the wire's route table (DPL_ROUTES): each handler is registered
 * for one operation of one table entry, at the table's path, with the path's ids as a params
 * schema that fastify validates before the handler runs. A handler for an operation the table
 * does not have fails at start; a test checks every table operation has a handler.
 */
import { fastifyPathOf, HEX_ID_PATTERN, type WireMethod, type WireRoute } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from "fastify";
import { badPathId } from "./route-kit";

export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => unknown;

interface ParamsSchema {
  type: "object";
  properties: Record<string, { type: "string"; pattern: string }>;
  required: string[];
}

function paramsSchema(params: readonly string[]): ParamsSchema {
  return { type: "object", properties: Object.fromEntries(params.map((p) => [p, { type: "string", pattern: HEX_ID_PATTERN }])), required: [...params] };
}

/** Registers the handler of one operation of a table route. */
export function serve(app: FastifyInstance, wireRoute: WireRoute, method: WireMethod, handler: RouteHandler): void {
  const operation = wireRoute.operations[method];
  if (operation === undefined) throw new Error(`the wire route table has no ${method.toUpperCase()} ${wireRoute.path}`);
  app.route({
    method: method === "get" ? "GET" : method === "put" ? "PUT" : "DELETE",
    url: fastifyPathOf(wireRoute),
    schema: { summary: operation.summary, ...(wireRoute.params.length > 0 ? { params: paramsSchema(wireRoute.params) } : {}) },
    handler,
  });
}

/**
 * Validates what the route schemas declare (only path ids: bodies are parsed by their handlers,
 * which choose the wire schema by the body's keys), refusing a bad id with the field it names.
 */
export const validateDeclaredParts: FastifySchemaCompiler<ParamsSchema> = ({ schema, httpPart }) => {
  if (httpPart !== "params") throw new Error(`route schemas declare only path ids, not ${httpPart ?? "another part"}`);
  return (data: unknown) => {
    const params = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
    for (const name of Object.keys(schema.properties)) {
      const refusal = badPathId(name, typeof params[name] === "string" ? params[name] : "");
      if (refusal !== undefined) return { error: refusal };
    }
    return { value: data };
  };
};
