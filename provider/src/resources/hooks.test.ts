import { describe, expect, it } from "vitest";
import { connectionEnvironment, forgetProviderConfig, rememberProviderConfig } from "../config/connection-settings";
import { UNKNOWN_VALUE } from "./input-validation";
import { declaredObjectId, derivedObjectId } from "./object-ids";
import { RESOURCE_HOOKS, resourceHooks } from "./registry";

const POOL = "a".repeat(32);
const OTHER_POOL = "b".repeat(32);
const OBJECT = declaredObjectId("proj", "dev", "dpl:Volume", "data");
const { volume, iscsiExport, snapshot, clone, rollback, pool } = RESOURCE_HOOKS;

function volumeInputs(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { objectId: OBJECT, pool: POOL, sizeGib: 1, __provider: "shim", ...extra };
}

/** Outputs as create() would store them: the inputs plus what the server decided. */
function volumeState(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...volumeInputs(extra), volumeId: OBJECT, sizeBytes: 2 ** 30, usedBytes: 0, poolId: POOL, state: "available" };
}

describe("object ids", () => {
  it("are 32 hex, deterministic per declaration, and distinct per name, stack and replacement", () => {
    expect(OBJECT).toMatch(/^[0-9a-f]{32}$/);
    expect(declaredObjectId("proj", "dev", "dpl:Volume", "data")).toBe(OBJECT);
    expect(declaredObjectId("proj", "dev", "dpl:Volume", "data2")).not.toBe(OBJECT);
    expect(declaredObjectId("proj", "prod", "dpl:Volume", "data")).not.toBe(OBJECT);
    expect(derivedObjectId(OBJECT, { pool: POOL })).toMatch(/^[0-9a-f]{32}$/);
    expect(derivedObjectId(OBJECT, { pool: POOL })).toBe(derivedObjectId(OBJECT, { pool: POOL }));
    expect(derivedObjectId(OBJECT, { pool: POOL })).not.toBe(derivedObjectId(OBJECT, { pool: OTHER_POOL }));
  });
});

describe("Volume check", () => {
  it("accepts valid inputs and derives the id from the declaration alone (nothing replaces a volume)", async () => {
    const result = await volume.check({}, volumeInputs());
    expect(result.failures).toBeUndefined();
    expect(result.inputs?.objectId).toBe(derivedObjectId(OBJECT, {}));
    expect((await volume.check({}, volumeInputs({ pool: OTHER_POOL, thin: false }))).inputs?.objectId).toBe(result.inputs?.objectId);
  });

  it("names the field for a negative size", async () => {
    const result = await volume.check({}, volumeInputs({ sizeGib: -1 }));
    expect(result.failures).toEqual([{ property: "sizeGib", reason: "must be greater than 0" }]);
  });

  it("names the field for a bad pool id and a missing size", async () => {
    const result = await volume.check({}, { objectId: OBJECT, pool: "not-an-id" });
    expect(result.failures?.map((f) => f.property).sort()).toEqual(["pool", "sizeGib"]);
  });

  it("refuses a shrink, comparing old and new inputs", async () => {
    const result = await volume.check(volumeInputs({ sizeGib: 2 }), volumeInputs({ sizeGib: 1 }));
    expect(result.failures).toHaveLength(1);
    expect(result.failures?.[0]?.property).toBe("sizeGib");
    expect(result.failures?.[0]?.reason).toMatch(/cannot shrink a volume from 2 GiB to 1 GiB/);
  });

  it("refuses a shrink expressed in another unit", async () => {
    const result = await volume.check(volumeInputs({ sizeGib: 2 }), volumeInputs({ sizeGib: undefined, sizeBytes: 2 ** 30 }));
    expect(result.failures?.[0]?.property).toBe("sizeBytes");
  });

  it("does not fail on values unknown during preview", async () => {
    const result = await volume.check({}, volumeInputs({ pool: UNKNOWN_VALUE }));
    expect(result.failures).toBeUndefined();
  });

  it("keeps the stored id on every update, a move to another pool included", async () => {
    const created = (await volume.check({}, volumeInputs())).inputs ?? {};
    for (const change of [{ sizeGib: 2, name: "renamed" }, { pool: OTHER_POOL }, { thin: false }, { cacheMode: "direct" }]) {
      expect((await volume.check(created, volumeInputs(change))).inputs?.objectId, JSON.stringify(change)).toBe(created.objectId);
    }
  });

  it("takes the adopted object's id for a new resource", async () => {
    const adopted = "d".repeat(32);
    const result = await volume.check({}, volumeInputs({ adopt: adopted }));
    expect(result.inputs?.objectId).toBe(adopted);
  });
});

describe("Volume diff", () => {
  it("reports no change for identical inputs", async () => {
    const result = await volume.diff(OBJECT, volumeState(), volumeInputs());
    expect(result.changes).toBe(false);
    expect(result.replaces).toEqual([]);
  });

  it("extends in place when the size grows", async () => {
    const result = await volume.diff(OBJECT, volumeState(), volumeInputs({ sizeGib: 2 }));
    expect(result).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(result.stables).toContain("volumeId");
  });

  it("moves pools, changes thin/thick and cache mode in place; absent inputs mean their defaults", async () => {
    for (const change of [{ pool: OTHER_POOL }, { thin: false }, { cacheMode: "direct" }]) {
      expect(await volume.diff(OBJECT, volumeState(), volumeInputs(change)), JSON.stringify(change)).toMatchObject({ changes: true, replaces: [] });
    }
    expect((await volume.diff(OBJECT, volumeState({ thin: true }), volumeInputs())).changes).toBe(false);
    expect((await volume.diff(OBJECT, volumeState({ cacheMode: "writeback" }), volumeInputs())).changes).toBe(false);
    expect((await volume.diff(OBJECT, volumeState({ cacheMode: "direct" }), volumeInputs())).changes).toBe(true);
  });

  it("changes compression in place, keeping the id", async () => {
    const state = volumeState({ compression: "zstd" });
    for (const compression of ["lzo", undefined]) {
      expect(await volume.diff(OBJECT, state, volumeInputs({ compression })), String(compression)).toMatchObject({ changes: true, replaces: [] });
      expect((await volume.check(state, volumeInputs({ compression }))).inputs?.objectId).toBe(OBJECT);
    }
  });

  it("renames in place", async () => {
    const result = await volume.diff(OBJECT, volumeState({ name: "a" }), volumeInputs({ name: "b" }));
    expect(result).toMatchObject({ changes: true, replaces: [] });
  });

  it("ignores adopt and objectId changes", async () => {
    const result = await volume.diff(OBJECT, volumeState({ adopt: OBJECT }), volumeInputs({ objectId: "e".repeat(32) }));
    expect(result.changes).toBe(false);
  });

  it("treats an unknown pool as a possible move, never a replacement", async () => {
    expect(await volume.diff(OBJECT, volumeState(), volumeInputs({ pool: UNKNOWN_VALUE }))).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("ISCSIExport", () => {
  const base = { volume: POOL, initiators: ["iqn.2026-01.com.example:host1"] };

  it("names the failing initiator for a bad IQN", async () => {
    const result = await iscsiExport.check({}, { ...base, initiators: ["iqn.2026-01.com.example:host1", "not an iqn"] });
    expect(result.failures).toHaveLength(1);
    expect(result.failures?.[0]?.property).toBe("initiators[1]");
  });

  it("names the CHAP secret field when too short", async () => {
    const result = await iscsiExport.check({}, { ...base, chap: { username: "u", secret: "short" } });
    expect(result.failures?.[0]?.property).toBe("chap.secret");
  });

  it("changes initiators in place (case-insensitively) and replaces on a volume change", async () => {
    const state = { ...base, targetIqn: "iqn.x", lun: 1 };
    expect(await iscsiExport.diff(POOL, state, { ...base, initiators: ["IQN.2026-01.com.example:HOST1"] })).toMatchObject({ changes: false });
    expect(await iscsiExport.diff(POOL, state, { ...base, initiators: [...base.initiators, "iqn.2026-01.com.example:host2"] })).toMatchObject({ changes: true, replaces: [] });
    expect(await iscsiExport.diff(POOL, state, { ...base, chap: { username: "u", secret: "abcdefghijklm" } })).toMatchObject({ changes: true, replaces: [] });
    expect((await iscsiExport.diff(POOL, state, { ...base, volume: OTHER_POOL })).replaces).toEqual(["volume"]);
  });
});

describe("Snapshot, Clone, Rollback, Pool diffs", () => {
  it("Snapshot: a volume change replaces", async () => {
    const state = { objectId: OBJECT, volume: POOL, snapshotId: OBJECT };
    expect((await snapshot.diff(OBJECT, state, { objectId: OBJECT, volume: OTHER_POOL })).replaces).toEqual(["volume"]);
    expect((await snapshot.diff(OBJECT, state, { objectId: OBJECT, volume: POOL })).changes).toBe(false);
  });

  it("Clone: source change replaces, growth is in place, shrink refused at check", async () => {
    const inputs = { objectId: OBJECT, sourceVolume: POOL, sizeGib: 2 };
    const state = { ...inputs, volumeId: OBJECT, sizeBytes: 2 * 2 ** 30 };
    expect((await clone.diff(OBJECT, state, { ...inputs, sourceVolume: OTHER_POOL })).replaces).toEqual(["sourceVolume"]);
    expect(await clone.diff(OBJECT, state, { ...inputs, sizeGib: 3 })).toMatchObject({ changes: true, replaces: [] });
    expect(await clone.diff(OBJECT, state, { objectId: OBJECT, sourceVolume: POOL })).toMatchObject({ changes: false });
    expect((await clone.check(inputs, { ...inputs, sizeGib: 1 })).failures?.[0]?.property).toBe("sizeGib");
  });

  it("Rollback: a trigger or snapshot change is a new rollback", async () => {
    const inputs = { objectId: OBJECT, volume: POOL, snapshot: OTHER_POOL, triggers: [1] };
    expect((await rollback.diff(OBJECT, inputs, { ...inputs, triggers: [2] })).replaces).toEqual(["triggers"]);
    expect((await rollback.diff(OBJECT, inputs, { ...inputs, snapshot: POOL })).replaces).toEqual(["snapshot"]);
    expect((await rollback.diff(OBJECT, inputs, inputs)).changes).toBe(false);
    await expect(rollback.delete(OBJECT, inputs)).resolves.toBeUndefined();
  });

  it("Pool: validates devices, converts RAID in place, and refuses at check a profile the devices cannot hold", async () => {
    const inputs = { objectId: OBJECT, name: "p", devices: [{ sizeGib: 1 }, { sizeGib: 1 }], raidLevel: "raid1" };
    expect((await pool.check({}, inputs)).failures).toBeUndefined();
    expect((await pool.check({}, { ...inputs, devices: [{ sizeGib: 1, path: "/dev/sdb" }] })).failures?.[0]?.property).toBe("devices[0]");
    expect((await pool.check({}, { ...inputs, raidLevel: "raid5" })).failures?.[0]?.property).toBe("allowUnsafeRaid56");
    expect((await pool.check({}, { ...inputs, raidLevel: "raid5", allowUnsafeRaid56: true })).failures).toBeUndefined();
    expect((await pool.check({}, { ...inputs, raidLevel: "raid7" })).failures?.[0]?.property).toBe("raidLevel");
    expect(await pool.diff(OBJECT, inputs, { ...inputs, raidLevel: "raid0" })).toMatchObject({ changes: true, replaces: [] });
    expect((await pool.check(inputs, { ...inputs, raidLevel: "raid0" })).inputs?.objectId).toBe(OBJECT);
    expect((await pool.check(inputs, { ...inputs, raidLevel: "raid10" })).failures).toEqual([
      { property: "raidLevel", reason: "raid10 needs at least 4 devices; the pool declares 2" },
    ]);
    expect((await pool.diff(OBJECT, { ...inputs, raidLevel: undefined }, { ...inputs, raidLevel: "single" })).changes).toBe(false);
  });

  it("Pool: name, description, compression and cap change in place, keeping the pool's id", async () => {
    const inputs = { objectId: OBJECT, name: "p", description: "a", devices: [{ sizeGib: 1 }], compression: "none", maxOversubscription: 2 };
    for (const change of [{ name: "q" }, { description: "b" }, { compression: "zstd" }, { maxOversubscription: 4 }, { description: undefined }]) {
      const diff = await pool.diff(OBJECT, inputs, { ...inputs, ...change });
      expect(diff, JSON.stringify(change)).toMatchObject({ changes: true, replaces: [], stables: ["poolId"] });
      expect((await pool.check(inputs, { ...inputs, ...change })).inputs?.objectId).toBe(OBJECT);
    }
  });

  it("Pool: tags change in place and a bad tag key fails check naming the tags", async () => {
    const inputs = { objectId: OBJECT, name: "p", devices: [{ sizeGib: 1 }], tags: { environment: "staging" } };
    expect((await pool.check({}, inputs)).failures).toBeUndefined();
    expect(await pool.diff(OBJECT, inputs, { ...inputs, tags: { environment: "production" } })).toMatchObject({ changes: true, replaces: [] });
    expect((await pool.diff(OBJECT, inputs, { ...inputs, tags: { environment: "staging" } })).changes).toBe(false);
    const bad = await pool.check({}, { ...inputs, tags: { "has space": "x" } });
    expect(bad.failures?.[0]?.property).toMatch(/^tags/);
    expect(bad.failures?.[0]?.reason).toMatch(/letters, digits/);
  });

  it("Pool: a device list change is an in-place update; a reordering is no change", async () => {
    const inputs = { objectId: OBJECT, name: "p", devices: [{ sizeGib: 1 }, { path: "/dev/sdb" }], raidLevel: "raid1" };
    const grown = await pool.diff(OBJECT, inputs, { ...inputs, devices: [...inputs.devices, { sizeGib: 2 }] });
    expect(grown).toMatchObject({ changes: true, replaces: [] });
    const swapped = await pool.diff(OBJECT, inputs, { ...inputs, devices: [{ path: "/dev/sdb" }, { sizeBytes: 2 ** 30 }] });
    expect(swapped.changes).toBe(false);
    expect((await pool.diff(OBJECT, inputs, { ...inputs, devices: UNKNOWN_VALUE })).changes).toBe(true);
    const check = await pool.check(inputs, { ...inputs, devices: [{ sizeGib: 2 }, { sizeGib: 2 }] });
    expect(check.inputs?.objectId).toBe(OBJECT);
  });

  it("Pool: scrub and dedupe intervals change in place and are checked against the server's minimum", async () => {
    const inputs = { objectId: OBJECT, name: "p", devices: [{ sizeGib: 1 }], scrubIntervalHours: 168 };
    expect(await pool.diff(OBJECT, inputs, { ...inputs, scrubIntervalHours: 24 })).toMatchObject({ changes: true, replaces: [] });
    expect(await pool.diff(OBJECT, inputs, { ...inputs, dedupeIntervalHours: 0.5 })).toMatchObject({ changes: true, replaces: [] });
    const { scrubIntervalHours: _dropped, ...unscheduled } = inputs;
    expect(await pool.diff(OBJECT, inputs, unscheduled)).toMatchObject({ changes: true, replaces: [] });
    expect((await pool.diff(OBJECT, inputs, inputs)).changes).toBe(false);
    expect((await pool.check(inputs, { ...inputs, scrubIntervalHours: 24 })).inputs?.objectId).toBe(OBJECT);
    // 0.0028 h rounds to 10 s (the minimum); 0.002 h is 7 s.
    expect((await pool.check({}, { ...inputs, scrubIntervalHours: 0.0028 })).failures).toBeUndefined();
    const tooOften = await pool.check({}, { ...inputs, dedupeIntervalHours: 0.002 });
    expect(tooOften.failures).toEqual([{ property: "dedupeIntervalHours", reason: "must be at least 10 seconds (0.0028 hours)" }]);
    expect((await pool.check({}, { ...inputs, scrubIntervalHours: -1 })).failures?.[0]?.property).toBe("scrubIntervalHours");
  });
});

describe("registry and connection settings", () => {
  it("refuses an unknown kind naming the known ones", () => {
    expect(() => resourceHooks("bogus")).toThrow(/no resource kind "bogus".*volume/);
    expect(resourceHooks("volume")).toBe(volume);
  });

  it("prefers stack config over the environment, per key", () => {
    rememberProviderConfig({ get: (key) => ({ "dpl:endpoint": "https://config:1", "dpl:caPem": "PEM" } as Record<string, string>)[key] });
    try {
      const env = connectionEnvironment({ DPL_ENDPOINT: "https://env:2", DPL_PASSWORD: "p", DPL_CA_FILE: "/ca" });
      expect(env.DPL_ENDPOINT).toBe("https://config:1");
      expect(env.DPL_PASSWORD).toBe("p");
      expect(env.DPL_CA_PEM).toBe("PEM");
      expect(env.DPL_CA_FILE).toBeUndefined();
    } finally {
      forgetProviderConfig();
    }
    expect(connectionEnvironment({ DPL_ENDPOINT: "https://env:2" }).DPL_ENDPOINT).toBe("https://env:2");
  });
});
