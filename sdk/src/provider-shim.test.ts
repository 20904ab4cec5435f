import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { providerShim, sharedProviderShim } from "./provider-shim";

describe("the serialized provider shim", () => {
  it("is small, names only its kind, and requires the provider package at run time", async () => {
    process.env.DPL_PASSWORD = "a-password-that-must-not-leak";
    try {
      const shim = providerShim("volume");
      const serialized = await pulumi.runtime.serializeFunction(() => shim, { allowSecrets: true });
      expect(serialized.text.length).toBeLessThan(4096);
      expect(serialized.containsSecrets).toBe(false);
      expect(serialized.text).toContain('require("@prophetstor/dpl-provider")');
      expect(serialized.text).toContain('kind: "volume"');
      expect(serialized.text).not.toMatch(/DplClient|undici|password|zod/i);
    } finally {
      delete process.env.DPL_PASSWORD;
    }
  });

  it("is shared per kind, so Pulumi serializes each kind once", () => {
    expect(sharedProviderShim("pool")).toBe(sharedProviderShim("pool"));
    expect(sharedProviderShim("pool")).not.toBe(sharedProviderShim("volume"));
  });

  it("delegates to the provider package's hooks", async () => {
    const check = providerShim("volume").check;
    if (check === undefined) throw new Error("the shim has no check hook");
    const result = await check({}, { objectId: "f".repeat(32), pool: "a".repeat(32), sizeGib: -1 });
    expect(result.failures).toEqual([{ property: "sizeGib", reason: "must be greater than 0" }]);
  });
});
