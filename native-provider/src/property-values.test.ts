import { describe, expect, it } from "vitest";
import { configFailures } from "./provider-config";
import { plainBag, secretKeysOf, withSecrets } from "./property-values";
import { typeOf, withDeclarationSeed } from "./type-tokens";

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { username: "u", secret: "0123456789ab" } };

describe("property values between the engine and the hooks", () => {
  it("unwraps secrets at any depth and names the properties that held one", () => {
    const wire = { volume: "a", chap: SECRET, portals: ["p", { nested: SECRET }] };
    expect(plainBag(wire)).toEqual({ volume: "a", chap: SECRET.value, portals: ["p", { nested: SECRET.value }] });
    expect(secretKeysOf(wire)).toEqual(["chap", "portals"]);
  });

  it("marks only the named properties that are present", () => {
    expect(withSecrets({ chap: { username: "u" }, volume: "a" }, ["chap", "mutualChap"])).toEqual({ chap: { ...SECRET, value: { username: "u" } }, volume: "a" });
  });
});

describe("type tokens and declaration seeds", () => {
  it("takes the type from the URN when the request leaves it empty", () => {
    expect(typeOf("", "urn:pulumi:dev::proj::dpl:index:Volume::data")).toBe("dpl:index:Volume");
  });

  it("seeds the object id from the URN the way the Node SDK does, and keeps a given one", () => {
    const seeded = withDeclarationSeed("dpl:index:Volume", "urn:pulumi:dev::proj::dpl:index:Volume::data", { pool: "p" });
    expect(seeded.objectId).toMatch(/^[0-9a-f]{32}$/);
    expect(withDeclarationSeed("dpl:index:Volume", "urn:pulumi:dev::proj::dpl:index:Volume::data", { objectId: "x" }).objectId).toBe("x");
    expect(withDeclarationSeed("dpl:index:Volume", "urn:pulumi:dev::proj::dpl:index:Volume::other", { pool: "p" }).objectId).not.toBe(seeded.objectId);
  });

  it("refuses a type the package does not have, naming the known ones", () => {
    expect(() => withDeclarationSeed("dpl:index:Nope", "urn", {})).toThrow(/no resource type "dpl:index:Nope".*dpl:index:Volume/);
  });
});

describe("CheckConfig", () => {
  it("accepts the provider's settings, as strings or typed, and the engine's own keys", () => {
    expect(configFailures({ endpoint: "https://h:1", insecure: "true", version: "0.1.0" })).toEqual([]);
  });

  it("names a misspelt key and a value of the wrong type", () => {
    const failures = configFailures({ endpoit: "https://h:1", username: 3 });
    expect(failures.map((f) => f.property)).toEqual(["endpoit", "username"]);
    expect(failures[0]?.reason).toMatch(/dpl:endpoit is not a setting.*endpoint/);
  });
});
