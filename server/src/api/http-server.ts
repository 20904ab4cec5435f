/**
 * The DPL v1 HTTP server: fastify over HTTPS (plain HTTP only when asked), Basic auth on every
 * route, CDMI bodies parsed as JSON (also on DELETE), every collection with and without `/v1`
 * and with or without a trailing slash, and one error shape for every refusal.
 */
import { CDMI_CONTAINER, CDMI_SPEC_HEADER, CDMI_SPEC_VERSION } from "@prophetstor/dpl-provider/wire";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { DomainError } from "../core/domain-error";
import type { DplCore } from "../core/dpl-core";
import { basicAuthHook } from "./auth";
import { errorBody, OVERLOADED_RETRY_AFTER_SECONDS, STATUS_OF } from "./error-registry";
import { registerMetrics } from "./metrics";
import { validateDeclaredParts } from "./wire-route-registration";
import { buildOpenApiDocument } from "./openapi";
import { exportRoutes } from "./routes/export-routes";
import { imageRoutes } from "./routes/image-routes";
import { poolRoutes } from "./routes/pool-routes";
import { systemRoutes } from "./routes/system-routes";
import { replicationRoutes } from "./routes/replication-routes";
import { volgroupRoutes } from "./routes/volgroup-routes";
import { volumeRoutes } from "./routes/volume-routes";

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface HttpServerOptions {
  username: string;
  password: string;
  /** PEM key and certificate; plain HTTP when absent. */
  tls?: { key: string; cert: string };
  log: (message: string) => void;
  /** Per-volume series on /metrics (opt-in: one series per volume). */
  perVolumeMetrics?: boolean;
}

function parseJsonBody(body: string): unknown {
  if (body.trim() === "") return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new DomainError("INVALID_ARGUMENT", `the body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, "body");
  }
}

/** One route the server answers, as fastify registered it (`:param` placeholders, prefix included). */
export interface ServedRoute {
  method: string;
  url: string;
}

const servedRoutesOf = new WeakMap<FastifyInstance, ServedRoute[]>();

/** Every route and method an app built by buildHttpServer answers (HEAD included), in registration order. */
export function servedRoutes(app: FastifyInstance): readonly ServedRoute[] {
  return servedRoutesOf.get(app) ?? [];
}

export async function buildHttpServer(core: DplCore, options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.tls === undefined ? {} : { https: { key: options.tls.key, cert: options.tls.cert } }),
    bodyLimit: BODY_LIMIT_BYTES,
    // The router refuses over-long or undecodable path segments before any hook or error handler
    // runs; without this they would answer with fastify's own body instead of the DPL error shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "a path segment is longer than 200 characters" : "the URL is not valid";
      void reply.code(STATUS_OF.INVALID_ARGUMENT).send(errorBody("INVALID_ARGUMENT", message, "path"));
    },
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    logger: false,
    forceCloseConnections: "idle",
  }) as unknown as FastifyInstance;

  const served: ServedRoute[] = [];
  servedRoutesOf.set(app, served);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) served.push({ method, url: route.url });
  });

  // DPL clients send JSON as application/cdmi-container, and some send a content type with no body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === "string" ? body : body.toString("utf8")));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  // Replication streams: the handler reads the request itself, so no body limit applies and nothing is buffered.
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => {
    done(null, payload);
  });

  app.setValidatorCompiler(validateDeclaredParts);
  app.addHook("onRequest", basicAuthHook({ username: options.username, password: options.password }));
  app.addHook("onSend", async (request, reply, payload) => {
    void reply.header(CDMI_SPEC_HEADER, CDMI_SPEC_VERSION);
    const accept = request.headers.accept ?? "";
    const type = String(reply.getHeader("content-type") ?? "");
    if (accept.includes(CDMI_CONTAINER) && type.startsWith("application/json")) void reply.header("content-type", CDMI_CONTAINER);
    return payload;
  });

  app.setErrorHandler((error: FastifyError | DomainError, _request, reply) => {
    if (error instanceof DomainError) {
      if (error.code === "OVERLOADED") void reply.header("retry-after", String(OVERLOADED_RETRY_AFTER_SECONDS));
      return reply.code(STATUS_OF[error.code]).send(errorBody(error.code, error.message, error.field));
    }
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(STATUS_OF.PAYLOAD_TOO_LARGE).send(errorBody("PAYLOAD_TOO_LARGE", `the body is larger than ${BODY_LIMIT_BYTES} bytes`, "body"));
    }
    if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(400).send(errorBody("INVALID_ARGUMENT", error.message));
    }
    options.log(`internal error: ${error.stack ?? error.message}`);
    return reply.code(STATUS_OF.INTERNAL).send(errorBody("INTERNAL", "internal server error"));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody("NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0] ?? ""}`)));

  registerMetrics(app, core, { perVolume: options.perVolumeMetrics === true });

  const openApi = buildOpenApiDocument();
  app.get("/openapi.json", () => openApi);

  for (const prefix of ["", "/v1"]) {
    for (const routes of [systemRoutes, poolRoutes, volumeRoutes, volgroupRoutes, exportRoutes, imageRoutes, replicationRoutes]) {
      await app.register(routes(core), { prefix });
    }
  }
  return app;
}
