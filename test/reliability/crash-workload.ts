/**
 * A seeded mix of DPL operations driven through the client, with a model of what the client was
 * told: an operation whose call resolved is acknowledged and must survive any crash; one cut short
 * by a crash leaves its objects "uncertain" until they are read back after the restart (where each
 * must be either before or after the operation, never in between).
 */
import type { DplClient } from "../../provider/src/client";
import type { SeededRandom } from "./fault-mode";
import { MiB } from "./test-client";

export interface ModelVolume {
  id: string;
  sizeBytes: number;
  thin: boolean;
  initiators: Set<string>;
}

export interface ModelSnapshot {
  id: string;
  volumeId: string;
  sizeBytes: number;
}

export type OperationKind =
  | "create" | "extend" | "snapshot" | "clone" | "copy" | "assign" | "unassign" | "rollback" | "delete" | "delete_snapshot";

/** What a cut-short operation may have left: each id is read back after the restart. */
interface Uncertainty {
  volumes: Map<string, { kind: OperationKind; before?: ModelVolume | undefined; requestedSize?: number | undefined }>;
  snapshots: Map<string, ModelSnapshot>;
}

export const INITIATORS = [
  "iqn.2025-01.org.opendpl.test:crash-a",
  "iqn.2025-01.org.opendpl.test:crash-b",
  "iqn.2025-01.org.opendpl.test:crash-c",
] as const;

const MAX_VOLUMES = 24;
const MAX_SNAPSHOTS = 32;

export class CrashModel {
  readonly volumes = new Map<string, ModelVolume>();
  readonly snapshots = new Map<string, ModelSnapshot>();
  /** Ids an operation in flight is using: one operation per object at a time keeps the model exact. */
  private readonly busy = new Set<string>();
  readonly uncertain: Uncertainty = { volumes: new Map(), snapshots: new Map() };
  readonly acknowledged = new Map<OperationKind, number>();
  readonly cutShort = new Map<OperationKind, number>();
  /** Failures that no crash explains. */
  readonly unexpected: string[] = [];

  constructor(private readonly random: SeededRandom, private readonly reserved: ReadonlySet<string>) {}

  private freeVolumes(): ModelVolume[] {
    return [...this.volumes.values()].filter((v) => !this.busy.has(v.id) && !this.reserved.has(v.id));
  }

  private freeSnapshots(): ModelSnapshot[] {
    return [...this.snapshots.values()].filter((s) => !this.busy.has(s.id));
  }

  /**
   * Chooses and runs one operation (false when none could be chosen now); `crashed()` says
   * whether a failure is explained by a kill.
   */
  async runOne(client: DplClient, poolId: string, crashed: () => boolean): Promise<boolean> {
    const plan = this.plan(poolId);
    if (plan === undefined) return false;
    for (const id of plan.claims) this.busy.add(id);
    try {
      await plan.run(client);
      plan.acknowledge();
      this.acknowledged.set(plan.kind, (this.acknowledged.get(plan.kind) ?? 0) + 1);
    } catch (e) {
      if (crashed()) {
        plan.markUncertain();
        this.cutShort.set(plan.kind, (this.cutShort.get(plan.kind) ?? 0) + 1);
      } else {
        this.unexpected.push(`${plan.kind} ${plan.claims.join(",")}: ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      for (const id of plan.claims) this.busy.delete(id);
    }
    return true;
  }

  private plan(poolId: string): Plan | undefined {
    const volumes = this.freeVolumes();
    const snapshots = this.freeSnapshots();
    const kinds: OperationKind[] = ["create", "create"];
    if (volumes.length > 0) kinds.push("extend", "snapshot", "snapshot", "clone", "assign", "assign", "unassign", "delete");
    if (snapshots.length > 0) kinds.push("copy", "rollback", "delete_snapshot");
    if (this.volumes.size >= MAX_VOLUMES) kinds.push("delete", "delete", "delete", "delete");
    if (this.snapshots.size >= MAX_SNAPSHOTS) kinds.push("delete_snapshot", "delete_snapshot", "delete_snapshot");
    const kind = this.random.pick(kinds) ?? "create";
    const volume = this.random.pick(volumes);
    const snapshot = this.random.pick(snapshots);
    const newId = this.random.hexId();
    const size = this.random.int(16, 48) * MiB;
    switch (kind) {
      case "create": {
        if (this.volumes.size >= MAX_VOLUMES) return undefined;
        const thin = this.random.next() < 0.75;
        return this.plans.create(newId, poolId, size, thin);
      }
      case "clone":
        if (volume === undefined || this.volumes.size >= MAX_VOLUMES) return undefined;
        return this.plans.clone(newId, volume);
      case "copy":
        if (snapshot === undefined || this.volumes.size >= MAX_VOLUMES) return undefined;
        return this.plans.copy(newId, snapshot);
      case "snapshot":
        if (volume === undefined || this.snapshots.size >= MAX_SNAPSHOTS) return undefined;
        return this.plans.snapshot(newId, volume);
      case "extend":
        return volume === undefined ? undefined : this.plans.extend(volume, volume.sizeBytes + this.random.int(1, 8) * MiB);
      case "assign":
        return volume === undefined ? undefined : this.plans.assign(volume, this.random.pick(INITIATORS) ?? INITIATORS[0]);
      case "unassign": {
        const exported = volumes.filter((v) => v.initiators.size > 0);
        const target = this.random.pick(exported);
        const initiator = target === undefined ? undefined : this.random.pick([...target.initiators]);
        return target === undefined || initiator === undefined ? undefined : this.plans.unassign(target, initiator);
      }
      case "rollback": {
        if (snapshot === undefined) return undefined;
        const of = this.volumes.get(snapshot.volumeId);
        if (of === undefined || this.busy.has(of.id) || this.reserved.has(of.id)) return undefined;
        return this.plans.rollback(of, snapshot);
      }
      case "delete":
        return volume === undefined ? undefined : this.plans.deleteVolume(volume);
      case "delete_snapshot":
        return snapshot === undefined ? undefined : this.plans.deleteSnapshot(snapshot);
    }
  }

  private readonly plans = {
    create: (id: string, poolId: string, sizeBytes: number, thin: boolean): Plan => ({
      kind: "create", claims: [id],
      run: (c) => c.createVolume(id, { poolId, sizeBytes, thin }),
      acknowledge: () => this.volumes.set(id, { id, sizeBytes, thin, initiators: new Set() }),
      markUncertain: () => this.uncertain.volumes.set(id, { kind: "create", requestedSize: sizeBytes }),
    }),
    clone: (id: string, source: ModelVolume): Plan => ({
      kind: "clone", claims: [id, source.id],
      run: (c) => c.cloneVolume(id, source.id),
      acknowledge: () => this.volumes.set(id, { id, sizeBytes: source.sizeBytes, thin: source.thin, initiators: new Set() }),
      markUncertain: () => this.uncertain.volumes.set(id, { kind: "clone", requestedSize: source.sizeBytes }),
    }),
    copy: (id: string, snapshot: ModelSnapshot): Plan => ({
      kind: "copy", claims: [id, snapshot.id],
      run: (c) => c.copyFromSnapshot(id, snapshot.volumeId, snapshot.id),
      acknowledge: () => this.volumes.set(id, { id, sizeBytes: snapshot.sizeBytes, thin: true, initiators: new Set() }),
      markUncertain: () => this.uncertain.volumes.set(id, { kind: "copy", requestedSize: snapshot.sizeBytes }),
    }),
    snapshot: (id: string, volume: ModelVolume): Plan => {
      const record = { id, volumeId: volume.id, sizeBytes: volume.sizeBytes };
      return {
        kind: "snapshot", claims: [id, volume.id],
        run: (c) => c.createSnapshot(volume.id, id),
        acknowledge: () => this.snapshots.set(id, record),
        markUncertain: () => this.uncertain.snapshots.set(id, record),
      };
    },
    extend: (volume: ModelVolume, newSize: number): Plan => ({
      kind: "extend", claims: [volume.id],
      run: (c) => c.extendVolume(volume.id, newSize),
      acknowledge: () => {
        volume.sizeBytes = newSize;
      },
      markUncertain: () => this.uncertain.volumes.set(volume.id, { kind: "extend", before: copyOf(volume), requestedSize: newSize }),
    }),
    assign: (volume: ModelVolume, initiator: string): Plan => ({
      kind: "assign", claims: [volume.id],
      run: (c) => c.assignIscsi(volume.id, { initiators: [initiator] }),
      acknowledge: () => volume.initiators.add(initiator),
      markUncertain: () => this.uncertain.volumes.set(volume.id, { kind: "assign", before: copyOf(volume) }),
    }),
    unassign: (volume: ModelVolume, initiator: string): Plan => ({
      kind: "unassign", claims: [volume.id],
      run: (c) => c.unassignIscsi(volume.id, [initiator]),
      acknowledge: () => volume.initiators.delete(initiator),
      markUncertain: () => this.uncertain.volumes.set(volume.id, { kind: "unassign", before: copyOf(volume) }),
    }),
    rollback: (volume: ModelVolume, snapshot: ModelSnapshot): Plan => ({
      kind: "rollback", claims: [volume.id, snapshot.id],
      run: (c) => c.rollbackVolume(volume.id, snapshot.id),
      acknowledge: () => undefined,
      markUncertain: () => this.uncertain.volumes.set(volume.id, { kind: "rollback", before: copyOf(volume) }),
    }),
    deleteVolume: (volume: ModelVolume): Plan => ({
      kind: "delete", claims: [volume.id],
      run: (c) => c.deleteVolume(volume.id),
      acknowledge: () => this.volumes.delete(volume.id),
      markUncertain: () => this.uncertain.volumes.set(volume.id, { kind: "delete", before: copyOf(volume) }),
    }),
    deleteSnapshot: (snapshot: ModelSnapshot): Plan => ({
      kind: "delete_snapshot", claims: [snapshot.id],
      run: (c) => c.deleteSnapshot(snapshot.volumeId, snapshot.id),
      acknowledge: () => this.snapshots.delete(snapshot.id),
      markUncertain: () => this.uncertain.snapshots.set(snapshot.id, snapshot),
    }),
  };

  /**
   * After a restart: reads every uncertain object back and adopts what the server has, failing
   * (into `unexpected`) when it is neither the state before nor the state after the operation.
   */
  async settleUncertain(client: DplClient): Promise<void> {
    for (const [id, what] of this.uncertain.volumes) {
      const found = await client.getVolume(id);
      if (found === undefined) {
        if (!["create", "clone", "copy", "delete"].includes(what.kind)) this.unexpected.push(`volume ${id} vanished after a cut-short ${what.kind}`);
        this.volumes.delete(id);
        continue;
      }
      const m = found.metadata;
      if (m.state !== "available") this.unexpected.push(`volume ${id} is ${m.state} after a cut-short ${what.kind}`);
      const sizes = [what.before?.sizeBytes, what.requestedSize].filter((s) => s !== undefined);
      if (!sizes.includes(m.total_capacity)) this.unexpected.push(`volume ${id} has size ${m.total_capacity} after a cut-short ${what.kind}; expected one of ${sizes.join(", ")}`);
      const initiators = new Set((found.exports["Network/iSCSI"] ?? []).flatMap((e) => e.permissions.flatMap((p) => Object.keys(p))));
      this.volumes.set(id, { id, sizeBytes: m.total_capacity, thin: m.properties.thin_provision, initiators });
    }
    for (const [id, snapshot] of this.uncertain.snapshots) {
      const found = await client.getSnapshot(snapshot.volumeId, id);
      if (found === undefined) this.snapshots.delete(id);
      else {
        if (found.metadata.state !== "available") this.unexpected.push(`snapshot ${id} is ${found.metadata.state} after a crash`);
        this.snapshots.set(id, snapshot);
      }
    }
    this.uncertain.volumes.clear();
    this.uncertain.snapshots.clear();
  }

  /** Differences between the server and the model of acknowledged operations. */
  async compareWithServer(client: DplClient, reservedVolumes: readonly string[]): Promise<string[]> {
    const problems: string[] = [];
    const listed = new Set((await client.listVolumes()).map((v) => v.id));
    const expected = new Set([...this.volumes.keys(), ...reservedVolumes]);
    for (const id of listed) if (!expected.has(id)) problems.push(`server has volume ${id} that no acknowledged operation made`);
    for (const id of expected) if (!listed.has(id)) problems.push(`acknowledged volume ${id} is missing`);
    for (const volume of this.volumes.values()) {
      const found = await client.getVolume(volume.id);
      if (found === undefined) continue;
      const m = found.metadata;
      if (m.state !== "available") problems.push(`volume ${volume.id} is ${m.state}`);
      if (m.total_capacity !== volume.sizeBytes) problems.push(`volume ${volume.id} has size ${m.total_capacity}, acknowledged ${volume.sizeBytes}`);
      if (m.properties.thin_provision !== volume.thin) problems.push(`volume ${volume.id} thin=${m.properties.thin_provision}, acknowledged ${volume.thin}`);
      const initiators = (found.exports["Network/iSCSI"] ?? []).flatMap((e) => e.permissions.flatMap((p) => Object.keys(p))).sort();
      const wanted = [...volume.initiators].sort();
      if (JSON.stringify(initiators) !== JSON.stringify(wanted)) problems.push(`volume ${volume.id} exported to [${initiators.join(", ")}], acknowledged [${wanted.join(", ")}]`);
    }
    for (const snapshot of this.snapshots.values()) {
      const found = await client.getSnapshot(snapshot.volumeId, snapshot.id);
      if (found === undefined) problems.push(`acknowledged snapshot ${snapshot.id} of ${snapshot.volumeId} is missing`);
      else if (found.metadata.state !== "available") problems.push(`snapshot ${snapshot.id} is ${found.metadata.state}`);
    }
    return problems;
  }

  totalAcknowledged(): number {
    return [...this.acknowledged.values()].reduce((a, b) => a + b, 0);
  }
}

interface Plan {
  kind: OperationKind;
  /** Object ids the operation uses (new ones included). */
  claims: string[];
  run(client: DplClient): Promise<unknown>;
  acknowledge(): void;
  markUncertain(): void;
}

function copyOf(volume: ModelVolume): ModelVolume {
  return { ...volume, initiators: new Set(volume.initiators) };
}
