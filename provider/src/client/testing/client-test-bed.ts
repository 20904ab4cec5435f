/**
 * Per-test set-up shared by the client's unit tests: scripted local servers and clients that are
 * closed after each test (in reverse order), and a way to catch the error a call must raise.
 */
import { afterEach } from "vitest";
import { DplClient, type DplClientOptionsInput } from "../index";
import { startLocalServer, type Handler, type LocalServer } from "./local-server";

export interface ClientTestBed {
  serve: (handler: Handler) => Promise<LocalServer>;
  clientFor: (url: string, options?: Partial<DplClientOptionsInput>) => DplClient;
  /** Registers an extra undo step for whatever else a test starts. */
  onCleanup: (undo: () => Promise<void>) => void;
}

/** Call at module scope: registers the afterEach that closes what each test opened. */
export function useClientTestBed(defaults: Partial<DplClientOptionsInput> & { password: string }): ClientTestBed {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return {
    serve: async (handler) => {
      const server = await startLocalServer(handler);
      cleanups.push(() => server.close());
      return server;
    },
    clientFor: (url, options = {}) => {
      const client = new DplClient({ endpoint: url, ...defaults, ...options });
      cleanups.push(() => client.close());
      return client;
    },
    onCleanup: (undo) => { cleanups.push(undo); },
  };
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the call to fail");
}
