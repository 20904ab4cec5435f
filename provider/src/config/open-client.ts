import { DplClient, DplClientOptions } from "../client";
import { connectionEnvironment } from "./connection-settings";

/**
 * Clients by the settings they were built from. One provider process serves every resource of a
 * deployment: sharing a client keeps its connections alive between hook calls, so hundreds of
 * resources cost one TLS handshake instead of one each. Idle connections do not keep the
 * process alive (undici unrefs them), and a server that dropped them is reconnected to.
 */
const clients = new Map<string, DplClient>();

function clientFor(options: DplClientOptions): DplClient {
  const key = JSON.stringify(options);
  let client = clients.get(key);
  if (client === undefined) {
    client = new DplClient(options);
    clients.set(key, client);
  }
  return client;
}

/**
 * A client for one hook call, built from the settings in force right now (never captured in the
 * serialized provider). `operationTimeoutSeconds` bounds each client call, retries and event
 * waits included: the Node dynamic-provider host ignores Pulumi's customTimeouts.
 */
export async function withClient<T>(operationTimeoutSeconds: number | undefined, use: (client: DplClient) => Promise<T>): Promise<T> {
  const options = DplClientOptions.fromEnvironment(connectionEnvironment());
  if (operationTimeoutSeconds !== undefined) options.operationTimeoutMs = operationTimeoutSeconds * 1000;
  return use(clientFor(options));
}

/** Another DPL server than the configured one (a replication's target), as a resource names it. */
export interface ServerAddress {
  url: string;
  username: string;
  password: string;
  /** PEM trusted for this server (a self-signed certificate); absent: the system's CAs. */
  caCertificate?: string | undefined;
}

/** Like withClient, for a server the resource names instead of the provider's `dpl:*` config. */
export async function withClientAt<T>(server: ServerAddress, operationTimeoutSeconds: number | undefined, use: (client: DplClient) => Promise<T>): Promise<T> {
  const options = DplClientOptions.fromEnvironment({
    DPL_ENDPOINT: server.url, DPL_USERNAME: server.username, DPL_PASSWORD: server.password, DPL_CA_PEM: server.caCertificate,
    DPL_TIMEOUT_MS: connectionEnvironment().DPL_TIMEOUT_MS,
  });
  if (operationTimeoutSeconds !== undefined) options.operationTimeoutMs = operationTimeoutSeconds * 1000;
  return use(clientFor(options));
}

/** Closes every shared client (tests, and hosts that want to end cleanly). */
export async function closeSharedClients(): Promise<void> {
  const open = [...clients.values()];
  clients.clear();
  await Promise.all(open.map((client) => client.close()));
}
