/** A DplClient for a test server, trusting its self-signed certificate. */
import { DplClient, type DplClientOptionsInput } from "../../provider/src/client";
import type { RunningServer } from "../support/dpl-server";

export function clientFor(server: RunningServer, overrides: Partial<DplClientOptionsInput> = {}): DplClient {
  return new DplClient({
    endpoint: server.url,
    username: server.username,
    password: server.password,
    ...(server.caPem === "" ? {} : { ca: server.caPem }),
    ...overrides,
  });
}

export const MiB = 2 ** 20;
