import { z } from "zod";
import type { ConfigSource } from "../resources/hook-types";

/** The provider's `dpl:*` stack config, each key described (the package schema's config comes from it). */
export const ProviderConfig = z.object({
  endpoint: z.string().optional().describe("The DPL server's URL, e.g. https://dpl.example.com:8443 (or DPL_ENDPOINT)."),
  username: z.string().optional().describe("The DPL user (or DPL_USERNAME)."),
  password: z.string().optional().describe("The DPL user's password (or DPL_PASSWORD); keep it a secret (`pulumi config set --secret`)."),
  caFile: z.string().optional().describe("A PEM file with the CA that signed the server's certificate (or DPL_CA_FILE)."),
  caPem: z.string().optional().describe("The same CA as PEM text (or DPL_CA_PEM)."),
  insecure: z.boolean().optional().describe("Skip verifying the server's certificate (tests only; or DPL_INSECURE=1)."),
});

/** Config keys whose values are secrets. */
export const SECRET_CONFIG_KEYS: readonly (keyof z.infer<typeof ProviderConfig>)[] = ["password"];

/**
 * Where the hooks find the DPL server and its credentials, at run time and never in the
 * serialized provider (pulumi#8265): the stack config the dynamic-provider host hands to
 * configure() (`dpl:*` keys; Pulumi passes a dynamic provider every key of the stack since
 * pulumi#17673), else the DPL_* environment variables.
 */
export const CONFIG_TO_ENVIRONMENT = {
  "dpl:endpoint": "DPL_ENDPOINT",
  "dpl:username": "DPL_USERNAME",
  "dpl:password": "DPL_PASSWORD",
  "dpl:caFile": "DPL_CA_FILE",
  "dpl:caPem": "DPL_CA_PEM",
  "dpl:insecure": "DPL_INSECURE",
} as const;

type EnvironmentName = (typeof CONFIG_TO_ENVIRONMENT)[keyof typeof CONFIG_TO_ENVIRONMENT];
export type ConnectionSettings = Partial<Record<EnvironmentName, string>>;

// The dynamic-provider host calls configure() once per process; the hooks read it per call.
let configured: ConnectionSettings = {};

/** Keeps the `dpl:*` stack config the host's configure() received. */
export function rememberProviderConfig(config: ConfigSource): void {
  const settings: ConnectionSettings = {};
  for (const [key, envName] of Object.entries(CONFIG_TO_ENVIRONMENT)) {
    const value = config.get(key);
    if (value !== undefined && value !== "") settings[envName] = value;
  }
  configured = settings;
}

export function forgetProviderConfig(): void {
  configured = {};
}

/**
 * The effective settings as DPL_* names: stack config wins over the environment, per key. The
 * CA is one setting in two forms, so a CA from config replaces both environment forms.
 */
export function connectionEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  for (const name of Object.values(CONFIG_TO_ENVIRONMENT)) merged[name] = env[name];
  merged.DPL_TIMEOUT_MS = env.DPL_TIMEOUT_MS;
  if (configured.DPL_CA_FILE !== undefined || configured.DPL_CA_PEM !== undefined) {
    delete merged.DPL_CA_FILE;
    delete merged.DPL_CA_PEM;
  }
  return { ...merged, ...configured };
}
