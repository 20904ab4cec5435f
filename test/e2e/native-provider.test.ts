/**
 * The native provider plugin through the real pulumi engine: packed and installed with
 * `pulumi plugin install resource dpl <version> --file <tarball>` and driven by the TypeScript SDK
 * gen-sdk wrote from the package schema (sdk/nodejs), it creates every kind that owns
 * a server object, previews in-place and replacing changes by property (detailed diff), keeps
 * CHAP secrets encrypted in the state, and `pulumi import`s each of those objects into a second
 * stack whose program (written from the imported inputs) then previews no changes.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { EngineEvent, PropertyDiff } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "@prophetstor/dpl-provider/client";
import { startServer, type RunningServer } from "../support/dpl-server";
import { Cleanups } from "./cleanups";
import { createProgramStack, installNativeProvider, type ProgramStack } from "./pulumi-stack";

const execFileAsync = promisify(execFile);
const MIB = 2 ** 20;
const HOST = "iqn.2026-01.com.example:native";
const CHAP_SECRET = "native-chap-0123";

interface Declared {
  sizeMib: number;
  /** Which volume the export serves. */
  exported: "data" | "copy";
  retain: boolean;
}

/** The TypeScript SDK gen-sdk made of the package schema (sdk/nodejs), loaded from its sources. */
const NATIVE_SDK = resolve(__dirname, "..", "..", "sdk", "nodejs");

/** A program on the generated TypeScript SDK (the engine resolves its `dpl:*` types to the plugin). */
function program(d: Declared): string {
  return [
    `import * as pulumi from "@pulumi/pulumi";`,
    `import * as dpl from ${JSON.stringify(NATIVE_SDK)};`,
    `const opts: pulumi.CustomResourceOptions = { retainOnDelete: ${String(d.retain)} };`,
    `const pool = new dpl.Pool("pool", { name: "native-pool", devices: [{ sizeGib: 0.5 }], forceDestroy: true }, opts);`,
    `const data = new dpl.Volume("data", { pool: pool.poolId, sizeBytes: ${d.sizeMib * MIB}, name: "native-data" }, opts);`,
    `const snap = new dpl.Snapshot("snap", { volume: data.volumeId, name: "before" }, opts);`,
    `const copy = new dpl.Clone("copy", { sourceVolume: data.volumeId, sourceSnapshot: snap.snapshotId }, opts);`,
    // The schema marks chap secret: the SDK wraps it, the plugin keeps it wrapped.
    `const lun = new dpl.ISCSIExport("lun", { volume: ${d.exported}.volumeId, initiators: [${JSON.stringify(HOST)}], chap: { username: "native", secret: ${JSON.stringify(CHAP_SECRET)} } }, opts);`,
    `const group = new dpl.VolumeGroup("group", { volumes: [copy.volumeId], name: "native-group" }, opts);`,
    `const gsnap = new dpl.GroupSnapshot("gsnap", { volumeGroup: group.volumeGroupId, name: "g1" }, opts);`,
    `const image = new dpl.ImageExport("image", { volume: data.volumeId, format: "qcow2" }, opts);`,
    `const restored = new dpl.VolumeFromImage("restored", { pool: pool.poolId, image: { path: image.path, format: "qcow2" } }, opts);`,
    `export const ids = { pool: pool.id, data: data.id, snap: snap.id, copy: copy.id, lun: lun.id, group: group.id, gsnap: gsnap.id, image: image.id, restored: restored.id };`,
  ].join("\n") + "\n";
}

type Ids = Record<"pool" | "data" | "snap" | "copy" | "lun" | "group" | "gsnap" | "image" | "restored", string>;

/** The detailed diff the engine reports for each resource of a preview ("Volume:data" → property → kind). */
function detailedDiffRecorder(): { onEvent: (event: EngineEvent) => void; diffs: Map<string, Record<string, string>> } {
  const diffs = new Map<string, Record<string, string>>();
  return {
    diffs,
    onEvent(event) {
      const meta = event.resourcePreEvent?.metadata;
      // The engine sends null where the type says absent.
      const detailed = meta?.detailedDiff as Record<string, PropertyDiff> | null | undefined;
      if (meta === undefined || detailed === undefined || detailed === null) return;
      const name = `${meta.type.split(":").pop() ?? meta.type}:${meta.urn.split("::").pop() ?? meta.urn}`;
      diffs.set(name, Object.fromEntries(Object.entries(detailed).map(([key, diff]) => [key, diff.diffKind])));
    },
  };
}

/**
 * The import list: every kind that owns a server object (Rollback is an action; FCExport needs an
 * FC target, which this server has none of: its import id is read in fc-export-hook.test.ts).
 * Snapshots, group snapshots, clones of a snapshot and images are addressed "<parent>/<id>".
 */
function importList(ids: Ids): { type: string; name: string; id: string }[] {
  return [
    { type: "dpl:index:Pool", name: "pool", id: ids.pool },
    { type: "dpl:index:Volume", name: "data", id: ids.data },
    { type: "dpl:index:Snapshot", name: "snap", id: `${ids.data}/${ids.snap}` },
    { type: "dpl:index:Clone", name: "copy", id: `${ids.data}/${ids.copy}` },
    { type: "dpl:index:ISCSIExport", name: "lun", id: ids.lun },
    { type: "dpl:index:VolumeGroup", name: "group", id: ids.group },
    { type: "dpl:index:GroupSnapshot", name: "gsnap", id: `${ids.group}/${ids.gsnap}` },
    { type: "dpl:index:ImageExport", name: "image", id: `${ids.data}/${ids.image}` },
    { type: "dpl:index:VolumeFromImage", name: "restored", id: ids.restored },
  ];
}

interface StateResource { urn: string; type: string; id?: string; inputs?: Record<string, unknown> }

/**
 * What `pulumi import` would generate: one declaration per imported resource with the inputs it
 * read, ids of other imported resources written as references to them (so they are ordered).
 */
function programFromImport(resources: StateResource[]): string {
  const imported = resources.filter((r) => r.type.startsWith("dpl:index:"));
  // An export's id is its volume's: references to that id are to the volume.
  const names = new Map(imported.filter((r) => r.type !== "dpl:index:ISCSIExport").map((r) => [r.id ?? "", r.urn.split("::").pop() ?? ""]));
  const value = (v: unknown): string => {
    if (typeof v === "string" && names.has(v)) return `${names.get(v) ?? ""}.id`;
    if (Array.isArray(v)) return `[${v.map(value).join(", ")}]`;
    if (typeof v === "object" && v !== null) return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${value(x)}`).join(", ")} }`;
    return JSON.stringify(v);
  };
  // Declared after what they refer to, as generated code is.
  const lines: string[] = [];
  const declared = new Set<string>();
  const refersOnlyToDeclared = (r: StateResource): boolean =>
    [...names].every(([id, name]) => declared.has(name) || r.urn.endsWith(`::${name}`) || !JSON.stringify(r.inputs ?? {}).includes(`"${id}"`));
  while (declared.size < imported.length) {
    const next = imported.find((r) => !declared.has(r.urn.split("::").pop() ?? "") && refersOnlyToDeclared(r));
    if (next === undefined) throw new Error("the imported resources refer to each other in a cycle");
    const name = next.urn.split("::").pop() ?? "";
    lines.push(`const ${name} = new pulumi.CustomResource(${JSON.stringify(next.type)}, ${JSON.stringify(name)}, ${value(next.inputs ?? {})});`);
    declared.add(name);
  }
  return [`import * as pulumi from "@pulumi/pulumi";`, ...lines, `export const count = ${imported.length};`].join("\n") + "\n";
}

describe("the native provider plugin (pulumi-resource-dpl)", () => {
  let server: RunningServer;
  let client: DplClient;
  let pulumiHome: string;
  let first: ProgramStack;
  let ids: Ids;
  const cleanups = new Cleanups();

  beforeAll(async () => {
    pulumiHome = await installNativeProvider();
    server = await startServer({ embeddedPoolSize: "256MiB" });
    cleanups.add(() => server.stop());
    client = new DplClient({ endpoint: server.url, username: server.username, password: server.password, ca: server.caPem });
    cleanups.add(() => client.close());
    first = await createProgramStack("native", program({ sizeMib: 64, exported: "data", retain: false }), server, {}, undefined, { PULUMI_HOME: pulumiHome });
    cleanups.add(() => first.remove());
  });

  afterAll(async () => {
    await cleanups.run();
  });

  it("creates every kind and previews no changes on the next run", async () => {
    const outputs = await first.upProgram(program({ sizeMib: 64, exported: "data", retain: false }));
    ids = outputs.ids as Ids;
    expect((await client.getVolume(ids.data))?.metadata.total_capacity).toBe(64 * MIB);
    expect(await client.getGroupSnapshot(ids.group, ids.gsnap)).toBeDefined();
    expect(await first.previewProgram(program({ sizeMib: 64, exported: "data", retain: false }))).toEqual({});
  });

  it("keeps CHAP secrets encrypted in the stored state", async () => {
    const stored = await first.exportStoredState();
    expect(stored).toContain(ids.lun);
    const at = stored.indexOf(CHAP_SECRET);
    expect(at < 0 ? "" : stored.slice(Math.max(0, at - 400), at + 50)).toBe("");
  });

  it("previews by property: a growth is an update, another exported volume a replace", async () => {
    first.writeProgram(program({ sizeMib: 96, exported: "copy", retain: false }));
    const recorder = detailedDiffRecorder();
    const preview = await first.stack.preview({ onEvent: recorder.onEvent });
    // Why, in the reviewer's words, from the resource's definition.
    expect(preview.stdout).toContain("replaced because volume changed: an export of another volume is another target");
    expect(recorder.diffs.get("Volume:data")).toEqual({ sizeBytes: "update" });
    expect(recorder.diffs.get("ISCSIExport:lun")).toEqual({ volume: "update-replace" });
    expect(recorder.diffs.has("Pool:pool")).toBe(false);
  });

  it("extends the volume in place through the plugin", async () => {
    const outputs = await first.upProgram(program({ sizeMib: 96, exported: "data", retain: false }));
    expect((outputs.ids as Ids).data).toBe(ids.data);
    expect((await client.getVolume(ids.data))?.metadata.total_capacity).toBe(96 * MIB);
  });

  it("imports every kind with `pulumi import`; the program of the imported inputs previews no changes", async () => {
    // Leave the objects on the server, out of any stack: what an import meets in real life.
    await first.upProgram(program({ sizeMib: 96, exported: "data", retain: true }));
    await first.stack.destroy({ onOutput: () => undefined });
    expect(await client.getVolume(ids.data)).toBeDefined();

    const second = await createProgramStack("native-import", `export const count = 0;\n`, server, {}, undefined, { PULUMI_HOME: pulumiHome });
    cleanups.add(() => second.remove());
    const importFile = join(second.dir, "import.json");
    writeFileSync(importFile, JSON.stringify({ resources: importList(ids) }));
    await execFileAsync("pulumi", ["import", "--file", importFile, "--yes", "--protect=false", "--generate-code=false", "--stack", "e2e", "--non-interactive"], {
      cwd: second.dir, env: { ...process.env, ...second.env }, timeout: 300_000,
    });
    const state = await second.stack.exportStack();
    const resources = (state.deployment as { resources: StateResource[] }).resources;
    const imported = resources.filter((r) => r.type.startsWith("dpl:index:"));
    expect(imported.map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
    const volume = imported.find((r) => r.type === "dpl:index:Volume");
    expect(volume?.inputs).toMatchObject({ pool: ids.pool, sizeBytes: 96 * MIB, name: "native-data" });
    const restoredState = imported.find((r) => r.type === "dpl:index:VolumeFromImage");
    expect(restoredState?.inputs).toMatchObject({ image: { path: expect.stringContaining(`${ids.image}.qcow2`) as unknown, format: "qcow2" } });

    expect(await second.previewProgram(programFromImport(resources))).toEqual({});
    // The imported stack owns the objects now: destroying it deletes them on the server.
    await second.upProgram(programFromImport(resources));
    await second.stack.destroy({ onOutput: () => undefined });
    expect(await client.getVolume(ids.data)).toBeUndefined();
    expect(await client.getPool(ids.pool)).toBeUndefined();
  });
});
