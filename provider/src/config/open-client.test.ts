import { afterEach, describe, expect, it, vi } from "vitest";
import type { DplClient } from "../client";
import { closeSharedClients, withClient } from "./open-client";

afterEach(async () => {
  vi.unstubAllEnvs();
  await closeSharedClients();
});

const clientOf = (timeoutSeconds?: number): Promise<DplClient> => withClient(timeoutSeconds, (client) => Promise.resolve(client));

describe("withClient", () => {
  it("hands every hook call with the same settings the same client (one connection pool per provider process)", async () => {
    vi.stubEnv("DPL_ENDPOINT", "https://127.0.0.1:1");
    vi.stubEnv("DPL_PASSWORD", "pw");
    const first = await clientOf();
    expect(await clientOf()).toBe(first);
    expect(await clientOf(30)).not.toBe(first);
    vi.stubEnv("DPL_PASSWORD", "rotated");
    expect(await clientOf()).not.toBe(first);
  });

  it("builds fresh clients once the shared ones are closed", async () => {
    vi.stubEnv("DPL_ENDPOINT", "https://127.0.0.1:1");
    vi.stubEnv("DPL_PASSWORD", "pw");
    const first = await clientOf();
    await closeSharedClients();
    expect(await clientOf()).not.toBe(first);
  });
});
