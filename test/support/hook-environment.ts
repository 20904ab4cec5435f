/**
 * Points the provider's hooks at a test server the way Pulumi does: through the DPL_*
 * environment the hooks read at run time. Returns what puts the environment back.
 */
import type { RunningServer } from "./dpl-server";

const ENV_KEYS = ["DPL_ENDPOINT", "DPL_USERNAME", "DPL_PASSWORD", "DPL_CA_PEM", "DPL_CA_FILE", "DPL_INSECURE"] as const;

export function pointHooksAt(server: RunningServer): () => void {
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  Object.assign(process.env, { DPL_ENDPOINT: server.url, DPL_USERNAME: server.username, DPL_PASSWORD: server.password, DPL_CA_PEM: server.caPem });
  Reflect.deleteProperty(process.env, "DPL_CA_FILE");
  Reflect.deleteProperty(process.env, "DPL_INSECURE");
  return () => {
    for (const key of ENV_KEYS) {
      const value = saved[key];
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
  };
}
