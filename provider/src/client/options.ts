import { readFileSync } from "node:fs";
import { z } from "zod";

const Endpoint = z
  .url({ error: "must be a URL such as https://dpl.example:8357 (IPv6: https://[::1]:8357)" })
  .refine((s) => /^https?:$/.test(new URL(s).protocol), "must use https:// (or http:// for a server run with --insecure-http)")
  .refine((s) => {
    const u = new URL(s);
    return u.pathname === "/" && u.search === "" && u.hash === "" && u.username === "" && u.password === "";
  }, "must be scheme://host:port only (no path, query or credentials in the URL)");

const Milliseconds = z.number().int().positive();

export const DplClientOptionsSchema = z
  .object({
    endpoint: Endpoint,
    username: z.string().min(1).default("admin"),
    password: z.string(),
    /** CA certificate(s) that sign the server's certificate: a PEM string or a path to a PEM file. */
    ca: z.string().min(1).optional(),
    /** Skips TLS verification. Only ever by explicit choice; never a fallback. */
    insecure: z.boolean().default(false),
    connectTimeoutMs: Milliseconds.default(10_000),
    /** Per request: time to the reply's headers and between body chunks (a long-poll adds its wait). */
    requestTimeoutMs: Milliseconds.default(60_000),
    /** Overall deadline of one client call: retries and event waits included. */
    operationTimeoutMs: Milliseconds.default(10 * 60_000),
    /** Requests per call, the first included; retries only transient failures (see transport.ts). */
    maxAttempts: z.number().int().min(1).max(100).default(6),
    retryBaseDelayMs: z.number().int().nonnegative().default(100),
    retryMaxDelayMs: z.number().int().nonnegative().default(5_000),
    /** Seconds the server may hold a mutating call or an event poll (RFC 7240 `Prefer: wait`). */
    preferWaitSeconds: z.number().int().min(0).max(300).default(20),
    /** Sleeps between event polls when the server answers at once; the last one repeats. */
    eventPollDelaysMs: z.array(z.number().int().nonnegative()).min(1).default([10, 25, 50, 100, 200, 400, 800, 1000]),
    /** Keep-alive connections to the server. */
    connections: z.number().int().positive().max(64).default(8),
  })
  .strict();

/** What callers pass (defaults optional). */
export type DplClientOptionsInput = z.input<typeof DplClientOptionsSchema>;
/** After validation, every default applied. */
export type ResolvedDplClientOptions = z.output<typeof DplClientOptionsSchema>;

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["", "0", "false", "no", "off"]);

function booleanFromEnvironment(name: string, value: string | undefined): boolean {
  const word = (value ?? "").trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new Error(`${name} must be true or false, not "${value ?? ""}"`);
}

/**
 * Client options from DPL_ENDPOINT, DPL_USERNAME (default admin), DPL_PASSWORD, DPL_CA_FILE or
 * DPL_CA_PEM, DPL_INSECURE=true and DPL_TIMEOUT_MS (the overall operation deadline).
 */
function fromEnvironment(env: NodeJS.ProcessEnv = process.env): DplClientOptionsInput {
  const endpoint = env.DPL_ENDPOINT;
  if (endpoint === undefined || endpoint === "") throw new Error("DPL_ENDPOINT is not set (e.g. https://dpl.example:8357)");
  const password = env.DPL_PASSWORD;
  if (password === undefined) throw new Error("DPL_PASSWORD is not set");
  const caPem = env.DPL_CA_PEM;
  const caFile = env.DPL_CA_FILE;
  if (caPem !== undefined && caPem !== "" && caFile !== undefined && caFile !== "") {
    throw new Error("set only one of DPL_CA_FILE and DPL_CA_PEM");
  }
  const ca = caPem !== undefined && caPem !== "" ? caPem : caFile !== undefined && caFile !== "" ? caFile : undefined;
  const timeout = env.DPL_TIMEOUT_MS;
  const operationTimeoutMs = timeout === undefined || timeout === "" ? undefined : Number(timeout);
  if (operationTimeoutMs !== undefined && !(Number.isInteger(operationTimeoutMs) && operationTimeoutMs > 0)) {
    throw new Error(`DPL_TIMEOUT_MS must be a positive integer number of milliseconds, not "${timeout ?? ""}"`);
  }
  const options: DplClientOptionsInput = {
    endpoint,
    username: env.DPL_USERNAME === undefined || env.DPL_USERNAME === "" ? "admin" : env.DPL_USERNAME,
    password,
    insecure: booleanFromEnvironment("DPL_INSECURE", env.DPL_INSECURE),
  };
  if (ca !== undefined) options.ca = ca;
  if (operationTimeoutMs !== undefined) options.operationTimeoutMs = operationTimeoutMs;
  return options;
}

/** Validates options; a bad one fails naming the option (never echoing the password). */
function resolve(input: DplClientOptionsInput): ResolvedDplClientOptions {
  const parsed = DplClientOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "options" : issue.path.join(".");
    throw new Error(`invalid DPL client option ${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The options type, and `DplClientOptions.fromEnvironment(env)` / `.resolve(input)`. */
export type DplClientOptions = DplClientOptionsInput;
export const DplClientOptions = { schema: DplClientOptionsSchema, fromEnvironment, resolve } as const;

/** A PEM string is used as is; anything else is a path to a PEM file. */
export function loadCa(ca: string): string {
  if (ca.includes("-----BEGIN")) return ca;
  try {
    return readFileSync(ca, "utf8");
  } catch (err) {
    throw new Error(`cannot read the DPL CA file ${ca}: ${(err as Error).message}`, { cause: err });
  }
}
