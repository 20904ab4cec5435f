import { DplClient, DplClientOptions } from "../client";
import { connectionEnvironment } from "./connection-settings";

/**
 * A client for one hook call, built from the settings in force right now (never captured in the
 * serialized provider). `operationTimeoutSeconds` bounds each client call, retries and event
 * waits included: the Node dynamic-provider host ignores Pulumi's customTimeouts.
 */
export async function withClient<T>(operationTimeoutSeconds: number | undefined, use: (client: DplClient) => Promise<T>): Promise<T> {
  const options = DplClientOptions.fromEnvironment(connectionEnvironment());
  if (operationTimeoutSeconds !== undefined) options.operationTimeoutMs = operationTimeoutSeconds * 1000;
  const client = new DplClient(options);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}
