import { describe, expect, it } from "vitest";
import { DplClientOptions } from "./options";
import { backoffDelayMs, retryAfterMs } from "./retry-policy";

describe("DplClientOptions.fromEnvironment", () => {
  it("reads endpoint, user (default admin), password, CA, insecure and timeout", () => {
    expect(DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://[::1]:8357", DPL_PASSWORD: "pw" })).toEqual({
      endpoint: "https://[::1]:8357",
      username: "admin",
      password: "pw",
      insecure: false,
    });
    expect(
      DplClientOptions.fromEnvironment({
        DPL_ENDPOINT: "https://dpl:8357", DPL_USERNAME: "ops", DPL_PASSWORD: "pw", DPL_CA_FILE: "/etc/dpl/ca.pem", DPL_INSECURE: "true", DPL_TIMEOUT_MS: "30000",
      }),
    ).toEqual({ endpoint: "https://dpl:8357", username: "ops", password: "pw", ca: "/etc/dpl/ca.pem", insecure: true, operationTimeoutMs: 30_000 });
    expect(DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://dpl:8357", DPL_PASSWORD: "pw", DPL_CA_PEM: "-----BEGIN CERTIFICATE-----" }).ca).toBe("-----BEGIN CERTIFICATE-----");
  });

  it("refuses missing or malformed settings, naming the variable", () => {
    expect(() => DplClientOptions.fromEnvironment({ DPL_PASSWORD: "pw" })).toThrow(/DPL_ENDPOINT is not set/);
    expect(() => DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://d:1" })).toThrow(/DPL_PASSWORD is not set/);
    expect(() => DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://d:1", DPL_PASSWORD: "p", DPL_INSECURE: "maybe" })).toThrow(/DPL_INSECURE must be true or false/);
    expect(() => DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://d:1", DPL_PASSWORD: "p", DPL_TIMEOUT_MS: "soon" })).toThrow(/DPL_TIMEOUT_MS/);
    expect(() => DplClientOptions.fromEnvironment({ DPL_ENDPOINT: "https://d:1", DPL_PASSWORD: "p", DPL_CA_FILE: "/a", DPL_CA_PEM: "b" })).toThrow(/only one/);
  });
});

describe("DplClientOptions.resolve", () => {
  it("applies defaults and refuses bad endpoints without echoing the password", () => {
    const resolved = DplClientOptions.resolve({ endpoint: "https://dpl:8357", password: "hunter2hunter2" });
    expect(resolved).toMatchObject({ username: "admin", insecure: false, operationTimeoutMs: 600_000, maxAttempts: 6, preferWaitSeconds: 20 });
    expect(() => DplClientOptions.resolve({ endpoint: "ftp://dpl", password: "hunter2hunter2" })).toThrow(/invalid DPL client option endpoint: must use https/);
    expect(() => DplClientOptions.resolve({ endpoint: "https://user:pw@dpl:8357", password: "x" })).toThrow(/no path, query or credentials/);
    expect(() => DplClientOptions.resolve({ endpoint: "https://dpl:8357", password: "hunter2hunter2", maxAttempts: 0 })).toThrow(/maxAttempts/);
    try {
      DplClientOptions.resolve({ endpoint: "nope", password: "hunter2hunter2" });
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2");
    }
  });
});

describe("backoff", () => {
  it("grows exponentially, stays within [step/2, step] and is capped", () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(1, settings, () => 0)).toBe(50);
    expect(backoffDelayMs(1, settings, () => 1)).toBe(100);
    expect(backoffDelayMs(3, settings, () => 1)).toBe(400);
    expect(backoffDelayMs(10, settings, () => 1)).toBe(1_000);
    expect(backoffDelayMs(10, settings, () => 0)).toBe(500);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:02 GMT", now)).toBe(2_000);
  });
});
