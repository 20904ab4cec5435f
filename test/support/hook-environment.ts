/**
 * Points the provider's hooks at a test server the way Pulumi does: through the DPL_*
 * environment the hooks read at run time. Returns what puts the environment back.
 */
import { DplClient } from "../../provider/src/client";
import { closeSharedClients } from "../../provider/src/config/open-client";
import { startServer, type RunningServer, type StartServerOptions } from "./dpl-server";

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

export interface HookTestServer {
  server: RunningServer;
  /** A client of the test's own, for setting up and checking what the hooks did. */
  client: DplClient;
  /** Puts the environment back, closes the clients (the hooks' shared ones too) and stops the server. */
  stop(): Promise<void>;
}

/** A real server the provider's hooks talk to through the DPL_* environment, plus a client of the test's own. */
export async function startHookTestServer(options: StartServerOptions): Promise<HookTestServer> {
  const server = await startServer(options);
  const client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  const restore = pointHooksAt(server);
  return {
    server,
    client,
    stop: async () => {
      restore();
      await closeSharedClients();
      await client.close();
      await server.stop();
    },
  };
}
