import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { dplProvider } from "./provider-shim";

describe("the serialized provider shim", () => {
  it("is small, names no kind and no secret, and requires the provider package at run time", async () => {
    process.env.DPL_PASSWORD = "a-password-that-must-not-leak";
    try {
      const serialized = await pulumi.runtime.serializeFunction(() => dplProvider, { allowSecrets: true });
      expect(serialized.text.length).toBeLessThan(4096);
      expect(serialized.containsSecrets).toBe(false);
      expect(serialized.text).toContain('require("@prophetstor/dpl-provider")');
      expect(serialized.text).toContain("dispatchingHooks");
      expect(serialized.text).not.toMatch(/DplClient|undici|password|zod|"volume"/i);
    } finally {
      delete process.env.DPL_PASSWORD;
    }
  });

  it("dispatches on the resource's dplKind and keeps it in what check returns", async () => {
    const check = dplProvider.check;
    if (check === undefined) throw new Error("the shim has no check hook");
    const result = await check({}, { dplKind: "volume", objectId: "f".repeat(32), pool: "a".repeat(32), sizeGib: -1 });
    expect(result.failures).toEqual([{ property: "sizeGib", reason: "must be greater than 0" }]);
    expect((result.inputs as Record<string, unknown> | undefined)?.dplKind).toBe("volume");
    const pool = await check({}, { dplKind: "pool", objectId: "f".repeat(32), name: "p" });
    expect(pool.failures?.[0]?.property).toBe("devices");
  });

  it("refuses a resource without a kind, or of a kind the provider does not know, saying which", async () => {
    const check = dplProvider.check;
    if (check === undefined) throw new Error("the shim has no check hook");
    await expect(check({}, { objectId: "f".repeat(32) })).rejects.toThrow(/no dplKind property/);
    await expect(check({}, { dplKind: "tape" })).rejects.toThrow(/no resource kind "tape"/);
  });
});
