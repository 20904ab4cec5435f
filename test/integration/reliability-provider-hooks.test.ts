/**
 * Reliability: property-based tests (fast-check) of every Pulumi provider hook's check and diff
 * (provider/src/resources). No server is involved: these hooks run on every preview.
 *   - check never throws, whatever olds and news hold; every failure names a property and a reason
 *   - a wrong-typed value in any input field fails check naming that field
 *   - check then diff of unchanged inputs against the state they produced is no change, and the
 *     object id stays put
 *   - growing a Volume's or Clone's size passes check and is an in-place change, never a replace
 *   - shrinking one always fails check, naming the size property
 * CI: 200 runs per property; DPL_RELIABILITY_FULL=1: 5,000.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PropertyBag, ResourceHooks } from "../../provider/src/resources/hook-types";
import { UNKNOWN_VALUE } from "../../provider/src/resources/input-validation";
import { RESOURCE_HOOKS, type ResourceKind } from "../../provider/src/resources/registry";
import { byMode } from "../reliability/fault-mode";

const RUNS = byMode(200, 5000);
const GIB = 2 ** 30;

const hexId = fc.stringMatching(/^[0-9a-f]{32}$/);
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$/);
const iqn = fc.stringMatching(/^[a-z0-9]{1,12}$/).map((s) => `iqn.2025-01.org.example:${s}`);
const wwpn = fc.stringMatching(/^[0-9a-f]{16}$/).chain((w) => fc.constantFrom(w, w.toUpperCase(), w.match(/../g)?.join(":") ?? w));
const chap = fc.record({ username: fc.stringMatching(/^[A-Za-z0-9._@:-]{1,20}$/), secret: fc.stringMatching(/^[\x21-\x7e]{12,16}$/) });
/** Sizes as users write them: whole or fractional GiB, or bytes. */
const size = fc.oneof(
  fc.integer({ min: 1, max: 4096 }).map((g) => ({ sizeGib: g })),
  fc.integer({ min: 1, max: 64 }).map((q) => ({ sizeGib: q / 4 })),
  fc.integer({ min: 1, max: 2 ** 20 }).map((m) => ({ sizeBytes: m * 2 ** 20 })),
);

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** Drops undefined members, as the host's JSON never carries them. */
function bag(record: Record<string, unknown>): PropertyBag {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** Valid raw inputs per resource kind, as the SDK passes them to check. */
const validInputs: Record<ResourceKind, fc.Arbitrary<PropertyBag>> = {
  pool: fc.record({
    objectId: hexId, name, description: optional(name),
    devices: fc.array(fc.integer({ min: 1, max: 64 }).map((g) => ({ sizeGib: g })), { minLength: 1, maxLength: 4 }),
    raidLevel: optional(fc.constantFrom("single", "raid0")),
    compression: optional(fc.constantFrom("none", "zstd", "lzo", "zstd:3")),
    maxOversubscription: optional(fc.integer({ min: 1, max: 20 })),
  }).map(bag),
  volume: fc.tuple(fc.record({
    objectId: hexId, pool: hexId, thin: optional(fc.boolean()), name: optional(name), description: optional(name),
    compression: optional(fc.constantFrom("none", "zstd")), cacheMode: optional(fc.constantFrom("writeback", "writethrough", "direct")),
  }), size).map(([r, s]) => bag({ ...r, ...s })),
  snapshot: fc.record({ objectId: hexId, volume: hexId, name: optional(name), description: optional(name) }).map(bag),
  clone: fc.tuple(fc.record({
    objectId: hexId, sourceVolume: hexId, sourceSnapshot: optional(hexId), pool: optional(hexId), thin: optional(fc.boolean()), name: optional(name),
  }), optional(size)).map(([r, s]) => bag({ ...r, ...s })),
  iscsiExport: fc.record({
    volume: hexId, initiators: fc.uniqueArray(iqn, { minLength: 1, maxLength: 5 }), chap: optional(chap),
  }).map(bag),
  rollback: fc.record({ objectId: hexId, volume: hexId, snapshot: hexId, triggers: optional(fc.array(fc.jsonValue(), { maxLength: 3 })) }).map(bag),
  fcExport: fc.record({
    volume: hexId, targetWwpn: wwpn, initiatorWwpns: fc.uniqueArray(wwpn, { minLength: 1, maxLength: 4, selector: (w) => w.replaceAll(":", "").toLowerCase() }),
    lun: optional(fc.integer({ min: 0, max: 255 })),
  }).map(bag),
  volumeGroup: fc.record({
    objectId: hexId, volumes: fc.uniqueArray(hexId, { maxLength: 5 }), name: optional(name), description: optional(name),
    maximumSnapshots: optional(fc.integer({ min: 1, max: 1024 })), snapshotRotation: optional(fc.boolean()),
  }).map(bag),
  groupSnapshot: fc.record({ objectId: hexId, volumeGroup: hexId, name: optional(name), description: optional(name) }).map(bag),
  volumeFromImage: fc.tuple(fc.record({
    objectId: hexId, pool: hexId, thin: optional(fc.boolean()), name: optional(name),
    image: fc.oneof(
      fc.record({ path: fc.stringMatching(/^[a-z0-9_-]{1,20}$/).map((f) => `/srv/images/${f}.raw`), format: fc.constant("raw") }),
      fc.record({ url: fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((f) => `https://images.example.org/${f}.qcow2`), format: fc.constantFrom("raw", "qcow2") }),
    ),
  }), optional(size)).map(([r, s]) => bag({ ...r, ...s })),
  imageExport: fc.record({
    objectId: hexId, volume: hexId, snapshot: optional(hexId), format: fc.constantFrom("raw", "qcow2"), directory: optional(fc.constant("/srv/images")),
  }).map(bag),
  replication: fc.tuple(fc.record({
    objectId: hexId, targetUrl: fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((h) => `https://${h}.example.org:8357`), targetPool: hexId,
    targetCredentials: fc.record({ username: fc.stringMatching(/^[a-z]{1,12}$/), password: fc.stringMatching(/^[\x21-\x7e]{1,32}$/) }),
    name: optional(name), rpoSeconds: optional(fc.integer({ min: 10, max: 86400 })), syncTriggers: optional(fc.array(fc.jsonValue(), { maxLength: 3 })),
  }), fc.oneof(hexId.map((volume) => ({ volume })), hexId.map((volumeGroup) => ({ volumeGroup })))).map(([r, source]) => bag({ ...r, ...source })),
  failover: fc.record({
    objectId: hexId, replication: hexId,
    replicaServer: fc.record({ url: fc.constant("https://replica.example.org:8357"), username: fc.constant("admin"), password: fc.stringMatching(/^[a-z]{1,12}$/) }),
    triggers: optional(fc.array(fc.jsonValue(), { maxLength: 3 })),
  }).map(bag),
};

/** Fields a wrong-typed value must be refused for, per kind (objectId is settled by check itself). */
const typedFields: Record<ResourceKind, string[]> = {
  pool: ["name", "description", "devices", "raidLevel", "compression", "maxOversubscription", "adopt", "forceDestroy"],
  volume: ["pool", "sizeGib", "sizeBytes", "thin", "name", "description", "compression", "cacheMode", "adopt"],
  snapshot: ["volume", "name", "description", "adopt"],
  clone: ["sourceVolume", "sourceSnapshot", "sizeGib", "sizeBytes", "pool", "thin", "name", "description", "adopt"],
  iscsiExport: ["volume", "initiators", "portals", "chap", "mutualChap", "adopt"],
  rollback: ["volume", "snapshot", "triggers"],
  fcExport: ["volume", "targetWwpn", "initiatorWwpns", "lun"],
  volumeGroup: ["volumes", "name", "description", "maximumSnapshots", "snapshotRotation", "adopt"],
  groupSnapshot: ["volumeGroup", "name", "description", "adopt"],
  volumeFromImage: ["pool", "image", "sizeGib", "sizeBytes", "thin", "name", "description", "compression", "cacheMode", "adopt"],
  imageExport: ["volume", "snapshot", "format", "directory", "adopt"],
  replication: ["targetUrl", "targetCredentials", "targetPool", "name", "rpoSeconds", "rateLimitBytesPerSecond", "initialSync"],
  failover: ["replication", "replicaServer", "reverseTo", "triggers"],
};

/** What create() adds to the inputs in the state: the server's view (sizes as the server has them). */
function stateAfterCreate(kind: ResourceKind, inputs: PropertyBag): PropertyBag {
  const gib = typeof inputs.sizeGib === "number" ? Math.round(inputs.sizeGib * GIB) : undefined;
  const bytes = typeof inputs.sizeBytes === "number" ? inputs.sizeBytes : gib;
  switch (kind) {
    case "volume":
    case "clone":
    case "volumeFromImage":
      return { ...inputs, volumeId: inputs.objectId, sizeBytes: bytes ?? 8 * GIB, usedBytes: 0, poolId: inputs.pool ?? "f".repeat(32), state: "available" };
    case "snapshot":
      return { ...inputs, snapshotId: inputs.objectId, sizeBytes: GIB };
    case "pool":
      return { ...inputs, poolId: inputs.objectId, totalBytes: GIB };
    case "iscsiExport":
      return { ...inputs, targetIqn: `iqn.2025-01.org.opendpl:${String(inputs.volume)}`, lun: 1, portal: "127.0.0.1:3260" };
    case "rollback":
      return { ...inputs, rolledBackAt: "2026-01-01T00:00:00.000Z" };
    case "fcExport":
      return { ...inputs, assignedLun: inputs.lun ?? 0, grantedInitiatorWwpns: inputs.initiatorWwpns };
    case "volumeGroup":
      return { ...inputs, volumeGroupId: inputs.objectId, memberIds: inputs.volumes, totalBytes: 0 };
    case "groupSnapshot":
      return { ...inputs, groupSnapshotId: inputs.objectId, volumeGroupId: inputs.volumeGroup, memberSnapshots: {} };
    case "replication":
      return { ...inputs, replicationId: inputs.objectId, role: "source", state: "idle", replicaVolumeIds: [inputs.volume ?? "a".repeat(32)], lastSyncBytes: 0, totalBytesSent: 0 };
    case "failover":
      return { ...inputs, promotedAt: "2026-01-01T00:00:00.000Z", promotedVolumeIds: [], reversed: false };
    case "imageExport":
      return { ...inputs, imageId: inputs.objectId, path: `/srv/images/${String(inputs.objectId)}.${String(inputs.format)}`, virtualBytes: GIB, fileBytes: GIB, allocatedBytes: 0 };
  }
}

const kinds = Object.keys(RESOURCE_HOOKS) as ResourceKind[];
const hooksOf = (kind: ResourceKind): ResourceHooks => RESOURCE_HOOKS[kind];
const anyValue = fc.oneof(fc.anything(), fc.constant(UNKNOWN_VALUE), fc.constant(null), fc.string({ maxLength: 5000 }));

describe.each(kinds)("%s hooks", (kind) => {
  const hooks = hooksOf(kind);
  const keys = [...typedFields[kind], "objectId", "operationTimeoutSeconds"];
  const garbageBag = fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string()), anyValue, { maxKeys: 12 });

  it("check never throws, and every failure names a property and a reason", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(garbageBag, validInputs[kind]), garbageBag, async (olds, news) => {
      const result = await hooks.check(olds, news);
      for (const failure of result.failures ?? []) {
        expect(typeof failure.property).toBe("string");
        expect(failure.property.length).toBeGreaterThan(0);
        expect(failure.reason.length).toBeGreaterThan(0);
      }
    }), { numRuns: RUNS });
  });

  it("check accepts valid inputs and refuses a wrong-typed field, naming it", async () => {
    await fc.assert(fc.asyncProperty(validInputs[kind], fc.constantFrom(...typedFields[kind]), fc.constantFrom<unknown>({ bogus: 1 }, -1, "", [[]]), async (inputs, field, wrong) => {
      const ok = await hooks.check({}, inputs);
      expect(ok.failures ?? [], JSON.stringify(inputs)).toEqual([]);
      // Some wrong values are right for some fields (a string for a string); only keep the wrong ones.
      const fine = (field === "description" && wrong === "") || (field === "triggers" && Array.isArray(wrong));
      fc.pre(!fine);
      const bad = await hooks.check({}, { ...inputs, [field]: wrong });
      const named = (bad.failures ?? []).map((f) => f.property.split(/[.[]/)[0]);
      expect(named, `${field}=${JSON.stringify(wrong)} → ${JSON.stringify(bad.failures)}`).toContain(field);
    }), { numRuns: RUNS });
  });

  it("diff of unchanged inputs against the state they produced is no change, with a stable id", async () => {
    await fc.assert(fc.asyncProperty(validInputs[kind], async (raw) => {
      const first = await hooks.check({}, raw);
      const inputs = first.inputs ?? raw;
      const state = stateAfterCreate(kind, inputs);
      const again = await hooks.check(state, raw);
      expect(again.failures ?? []).toEqual([]);
      expect(again.inputs?.objectId).toBe(inputs.objectId);
      const diff = await hooks.diff(String(inputs.objectId ?? inputs.volume), state, again.inputs ?? raw);
      expect(diff.changes, JSON.stringify(diff)).toBe(false);
      expect(diff.replaces ?? []).toEqual([]);
    }), { numRuns: RUNS });
  });
});

describe.each(["volume", "clone", "volumeFromImage"] as const)("%s sizes", (kind) => {
  const hooks = hooksOf(kind);
  const sized = validInputs[kind].filter((inputs) => inputs.sizeGib !== undefined || inputs.sizeBytes !== undefined);

  it("growth passes check and is an in-place change, never a replace", async () => {
    await fc.assert(fc.asyncProperty(sized, fc.integer({ min: 1, max: 1024 }), async (raw, growMiB) => {
      const state = stateAfterCreate(kind, (await hooks.check({}, raw)).inputs ?? raw);
      const grown = raw.sizeGib !== undefined ? { ...raw, sizeGib: Number(raw.sizeGib) + growMiB / 1024 } : { ...raw, sizeBytes: Number(raw.sizeBytes) + growMiB * 2 ** 20 };
      const checked = await hooks.check(state, grown);
      expect(checked.failures ?? []).toEqual([]);
      const diff = await hooks.diff(String(raw.objectId), state, checked.inputs ?? grown);
      expect(diff.changes).toBe(true);
      expect(diff.replaces ?? []).toEqual([]);
    }), { numRuns: RUNS });
  });

  it("a shrink always fails check, naming the size property", async () => {
    await fc.assert(fc.asyncProperty(sized, fc.double({ min: 0.01, max: 0.99, noNaN: true }), async (raw, fraction) => {
      const state = stateAfterCreate(kind, (await hooks.check({}, raw)).inputs ?? raw);
      const key = raw.sizeGib !== undefined ? "sizeGib" : "sizeBytes";
      const before = Number(raw[key]);
      const after = key === "sizeGib" ? before * fraction : Math.max(1, Math.floor(before * fraction));
      fc.pre(after < before && after > 0);
      const checked = await hooks.check(state, { ...raw, [key]: after });
      expect((checked.failures ?? []).map((f) => f.property), JSON.stringify(checked.failures)).toContain(key);
    }), { numRuns: RUNS });
  });
});

describe("volumeGroup membership", () => {
  const hooks = hooksOf("volumeGroup");

  it("any change of the member volumes is an in-place change, never a replace", async () => {
    await fc.assert(fc.asyncProperty(validInputs.volumeGroup, fc.uniqueArray(hexId, { maxLength: 5 }), async (raw, members) => {
      const state = stateAfterCreate("volumeGroup", (await hooks.check({}, raw)).inputs ?? raw);
      const moved = { ...raw, volumes: members };
      const checked = await hooks.check(state, moved);
      expect(checked.failures ?? []).toEqual([]);
      expect(checked.inputs?.objectId).toBe(state.objectId);
      const diff = await hooks.diff(String(state.objectId), state, checked.inputs ?? moved);
      const same = new Set(members).size === new Set(raw.volumes as string[]).size && members.every((m) => (raw.volumes as string[]).includes(m));
      expect(diff.changes).toBe(!same);
      expect(diff.replaces ?? []).toEqual([]);
    }), { numRuns: RUNS });
  });
});
