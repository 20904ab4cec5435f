/**
 * Reliability: the client (what the provider's hooks use) against a real server that goes bad —
 * killed (connections refused), frozen with SIGSTOP (accepts nothing, answers nothing: slower
 * than any timeout) — fails each call with a clear error within its deadline, and the same call
 * succeeds once the server is back, without making a twin of an object a timed-out create had
 * already asked for. Garbage replies, 503 storms and dropped connections are covered against a
 * scripted server in provider/src/client/transport.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplConnectionError, TimeoutError, type DplClient } from "../../provider/src/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { sleep } from "../reliability/fault-mode";
import { clientFor, MiB } from "../reliability/test-client";

let server: RunningServer;
let frozenPid: number | undefined;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  if (frozenPid !== undefined) process.kill(frozenPid, "SIGCONT");
  await server.stop();
});

function serverPid(): number {
  return (JSON.parse(readFileSync(join(server.stateDir, "ready.json"), "utf8")) as { pid: number }).pid;
}

async function failure(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await call.then(() => undefined, (e: unknown) => e);
  return { error, ms: Date.now() - started };
}

describe("client against a server that goes bad", () => {
  it("server down: fails with DplConnectionError naming the endpoint within the deadline; the same client works once it is back", async () => {
    const client: DplClient = clientFor(server, { operationTimeoutMs: 5_000, maxAttempts: 4, retryBaseDelayMs: 100, retryMaxDelayMs: 500 });
    try {
      expect(await client.listPools()).toHaveLength(1);
      await server.kill();
      const { error, ms } = await failure(client.listVolumes());
      expect(error).toBeInstanceOf(DplConnectionError);
      expect((error as Error).message).toContain(server.url);
      expect(ms).toBeLessThan(5_500);
      await server.restart();
      expect(await client.listPools()).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("server frozen: reads and creates time out within their deadline; after it thaws a rerun succeeds and makes no twin", async () => {
    // More attempts than fit in the deadline: a client that ignored it would go on for 10 s.
    const client: DplClient = clientFor(server, { operationTimeoutMs: 3_000, requestTimeoutMs: 1_000, maxAttempts: 10, retryBaseDelayMs: 50, retryMaxDelayMs: 200 });
    const volume = "e6000000000000000000000000000001";
    try {
      frozenPid = serverPid();
      process.kill(frozenPid, "SIGSTOP");
      const read = await failure(client.listVolumes());
      expect(read.error instanceof TimeoutError || read.error instanceof DplConnectionError, String(read.error)).toBe(true);
      expect((read.error as Error).message).toMatch(/timed out|timeout/i);
      // The 3 s deadline with room for a busy machine. Ignoring it, or waiting on a TLS handshake
      // the frozen server never answers until the 10 s connect timeout, takes 10 s.
      expect(read.ms).toBeLessThan(5_500);
      const create = await failure(client.createVolume(volume, { poolId: server.poolId, sizeBytes: 16 * MiB }));
      expect(create.error instanceof TimeoutError || create.error instanceof DplConnectionError, String(create.error)).toBe(true);
      expect(create.ms).toBeLessThan(5_500);

      process.kill(frozenPid, "SIGCONT");
      frozenPid = undefined;
      // The frozen server may still act on requests the kernel queued for it; a rerun converges.
      await sleep(500);
      const made = await client.createVolume(volume, { poolId: server.poolId, sizeBytes: 16 * MiB });
      expect(made.metadata.state).toBe("available");
      expect((await client.listVolumes()).filter((v) => v.id === volume)).toHaveLength(1);
      await client.deleteVolume(volume);
    } finally {
      await client.close();
    }
  });

  it("wrong endpoint and bad TLS fail at once with a clear error, without retry storms", async () => {
    const nowhere = clientFor(server, { endpoint: "https://127.0.0.1:1", operationTimeoutMs: 5_000, maxAttempts: 2 });
    try {
      const { error, ms } = await failure(nowhere.system());
      expect(error).toBeInstanceOf(DplConnectionError);
      expect((error as Error).message).toMatch(/127\.0\.0\.1:1/);
      expect(ms).toBeLessThan(5_500);
    } finally {
      await nowhere.close();
    }
  });
});
