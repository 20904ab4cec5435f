/**
 * The OpenAPI 3.1 document of the whole API, written from the wire's route table and schemas
 * (zod v4's JSON Schema output), so it cannot drift from what the server parses and answers. Every path is also
 * served without the `/v1` prefix and with or without its trailing slash.
 */
import * as wire from "@prophetstor/dpl-provider/wire";
import { z } from "zod";

function schemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Schemas get component names: their wire export names, or the local names above. */
function schemaNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  for (const [name, value] of Object.entries(wire)) {
    if (value instanceof z.ZodType && !names.has(value)) names.set(value, name);
  }
  return names;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const names = schemaNames();
  const components: Record<string, unknown> = {};
  const ref = (schema: z.ZodType, io: "input" | "output"): Record<string, unknown> => {
    const base = names.get(schema) ?? `Schema${names.size}`;
    names.set(schema, base);
    const name = io === "input" ? base : base.endsWith("Body") ? `${base}Output` : base;
    components[name] ??= schemaOf(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  const errorSchema = ref(wire.ErrorBody, "output");
  const mediaTypes = (schema: Record<string, unknown>): Record<string, unknown> => ({
    [wire.CDMI_CONTAINER]: { schema },
    "application/json": { schema },
  });
  const outPaths: Record<string, unknown> = {};
  for (const { path, params, operations: methods } of Object.values(wire.DPL_ROUTES)) {
    const parameters = params.map((name) => ({
      name, in: "path", required: true, schema: { type: "string", pattern: wire.HEX_ID_PATTERN },
    }));
    const ops: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(methods)) {
      const responses: Record<string, unknown> = {};
      for (const [status, schema] of Object.entries(op.replies)) {
        responses[status] = schema === null
          ? status === "200"
            ? { description: "Bytes", content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } }
            : { description: "No content" }
          : { description: status === "202" ? "Accepted: poll with ?event_uuid= (or send Prefer: wait=N)" : "OK", content: mediaTypes(ref(schema, "output")) };
      }
      for (const [status, description] of Object.entries(wire.ERROR_STATUSES)) {
        responses[status] = { description, content: mediaTypes(errorSchema) };
      }
      const bodies = Object.values(op.body ?? {}).map((s) => ref(s, "input"));
      const body = bodies.length === 0 ? undefined : bodies.length === 1 ? bodies[0] : { oneOf: bodies };
      ops[method] = {
        summary: op.summary,
        operationId: `${method}${path.replace(/\/v1/, "").replace(/[{}]/g, "").split("/").filter(Boolean).map((s) => `${s.slice(0, 1).toUpperCase()}${s.slice(1)}`).join("")}`,
        parameters: [
          ...parameters,
          ...Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: "query", required: false, description, schema: { type: "string" } })),
          { name: "Prefer", in: "header", required: false, description: "RFC 7240 wait=N: hold up to N s for completion", schema: { type: "string" } },
        ],
        ...(body === undefined ? {} : { requestBody: { required: method !== "delete", content: mediaTypes(body) } }),
        ...(op.bytes === undefined ? {} : {
          requestBody: { required: true, description: op.bytes, content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } },
        }),
        responses,
      };
    }
    outPaths[path] = ops;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "DPL v1 (open DPL server)",
      version: "1.0.0",
      description: [
        "ProphetStor DPL v1 REST protocol as served by @prophetstor/dpl-server. Every path also answers without /v1 and with or without its trailing slash. Bodies are JSON sent as application/cdmi-container or application/json (DELETE may carry one). HTTP Basic auth on every route.",
        "Mutating volume, snapshot, pool and group-snapshot calls answer 202 with metadata.event_uuid; poll GET <object>/?event_uuid=. With `Prefer: wait=N` (RFC 7240) the call holds up to N s and answers 200/201 with the final object (or the error); an event poll with it long-polls. Finished events stay queryable; events cut short by a server restart end as Error (\"interrupted by server restart\").",
        "Creating an id that exists with the same specification is idempotent (200 with the existing object); a different specification is 409 ALREADY_EXISTS. Volumes never shrink. Deleting a volume keeps its snapshots (independent btrfs subvolumes): they stay listed under the deleted volume's path and can still be copied from or deleted, so deletes succeed in any order. Deleting an exported volume needs metadata.force (which removes the export). Deleting what is gone is 404.",
        "Exports: one iSCSI target per volume, IQN iqn.2025-01.org.opendpl:<volume id>, the volume as LUN 1 (LUN 0 is tgtd's controller); assign adds lower-cased initiators, unassign matches case-insensitively and answers 404 when none is assigned; the last unassign removes the target. CHAP secrets are write-only. There is no FC engine: FC requests answer 422 UNSUPPORTED.",
        "Errors: {error:{code,message,field?}}; 400 INVALID_ARGUMENT/UNKNOWN_OPERATION, 401 UNAUTHENTICATED, 404 NOT_FOUND, 409 ALREADY_EXISTS/CONFLICT/BUSY, 413 PAYLOAD_TOO_LARGE, 422 INSUFFICIENT_CAPACITY/UNSUPPORTED, 500 ENGINE_FAILURE/INTERNAL, 503 OVERLOADED (with Retry-After).",
      ].join("\n\n"),
    },
    security: [{ basic: [] }],
    paths: outPaths,
    components: { securitySchemes: { basic: { type: "http", scheme: "basic" } }, schemas: components },
  };
}
