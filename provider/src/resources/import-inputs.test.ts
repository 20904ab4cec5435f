import { describe, expect, it } from "vitest";
import { childAddress, importedNaming, isImport } from "./import-inputs";
import { RESOURCE_HOOKS } from "./registry";

const POOL = "a".repeat(32);

const SNAPSHOT = { what: "a snapshot", parent: "volume id", own: "snapshot id" };

describe("import addresses", () => {
  it("takes the parent from the state on refresh and from the id on import", () => {
    expect(childAddress("s1", "v1", SNAPSHOT)).toEqual({ parent: "v1", id: "s1" });
    expect(childAddress("v1/s1", undefined, SNAPSHOT)).toEqual({ parent: "v1", id: "s1" });
  });

  it("names the form an import id must have", () => {
    expect(() => childAddress("s1", undefined, SNAPSHOT)).toThrow('import a snapshot as "<volume id>/<snapshot id>" (it lives under its volume), not "s1"');
    expect(() => childAddress("a/b/c", undefined, SNAPSHOT)).toThrow(/not "a\/b\/c"/);
  });

  it("declares a name only when it is not the id, and a description only when there is one", () => {
    expect(importedNaming({ objectID: "x", metadata: { display_name: "x", display_description: "" } }, { volume: "v" })).toEqual({ volume: "v" });
    expect(importedNaming({ objectID: "x", metadata: { display_name: "db", display_description: "d" } }, {})).toEqual({ name: "db", description: "d" });
    expect(isImport({})).toBe(true);
    expect(isImport({ pool: POOL })).toBe(false);
  });
});

describe("diff by property", () => {
  it("reports each changed input with its effect, its presence and the definition's why", async () => {
    const olds = { pool: POOL, sizeGib: 1, name: "a" };
    const result = await RESOURCE_HOOKS.iscsiExport.diff("v", { volume: "v1", initiators: ["iqn.2026-01.com.example:a"] }, { volume: "v2", initiators: ["iqn.2026-01.com.example:a"], portals: ["127.0.0.1:3260"] });
    expect(result.inputChanges).toEqual([
      { key: "volume", effect: "replace", why: "an export of another volume is another target", presence: "changed" },
      expect.objectContaining({ key: "portals", effect: "update", presence: "added" }),
    ]);
    const grown = await RESOURCE_HOOKS.volume.diff("v", olds, { ...olds, sizeGib: 2 });
    expect(grown.inputChanges?.map((c) => [c.key, c.effect])).toEqual([["sizeGib", "update"]]);
    expect(grown.replaces).toEqual([]);
  });
});
