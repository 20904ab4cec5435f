/**
 * Target objects of `dpl_export`. Volume exports make their own targets (ExportService); the
 * targets made here are records a client can name and list, with no LUNs until a future engine
 * maps volumes onto shared targets.
 */
import type { CoreContext } from "./context";
import { DomainError, notFound } from "./domain-error";
import type { ExportRecord, TargetRecord } from "./records";
import type { NewTarget } from "./commands";
import { createHash } from "node:crypto";

export interface TargetListEntry {
  id: string;
  name: string;
  address: string;
}

export class TargetService {
  constructor(private readonly ctx: CoreContext) {}

  create(id: string, target: NewTarget): TargetRecord {
    if (target.protocol === "fc") throw new DomainError("UNSUPPORTED", "no FC target engine on this host", "protocol");
    const address = target.address ?? `${this.ctx.settings.iqnPrefix}:target.${id}`;
    const existing = this.ctx.store.getTarget(id);
    if (existing !== undefined) {
      if (existing.address !== address || existing.protocol !== target.protocol) {
        throw new DomainError("ALREADY_EXISTS", `target ${id} already exists with a different address`);
      }
      return existing;
    }
    if (this.allTargets().some((t) => t.address.toLowerCase() === address.toLowerCase())) {
      throw new DomainError("ALREADY_EXISTS", `a target with address ${address} already exists`, "address");
    }
    const record: TargetRecord = {
      id, protocol: target.protocol, name: target.name ?? id, description: target.description ?? null, address, ctime: Date.now(),
    };
    this.ctx.store.insertTarget(record);
    return record;
  }

  get(id: string): TargetRecord {
    const record = this.ctx.store.getTarget(id);
    if (record === undefined) throw notFound("target", id);
    return record;
  }

  delete(id: string): TargetRecord {
    const record = this.get(id);
    this.ctx.store.deleteTarget(id);
    return record;
  }

  /** Created targets plus one per exported volume (id = volume id). */
  allTargets(): TargetListEntry[] {
    const created = this.ctx.store.listTargets().map((t) => ({ id: t.id, name: t.name, address: t.address }));
    const exported = this.ctx.store.listExports().map((e: ExportRecord) => ({
      id: e.volumeId, name: this.ctx.store.getVolume(e.volumeId)?.name ?? e.volumeId, address: e.iqn,
    }));
    return [...created, ...exported];
  }

  /** Every initiator some export admits; id = first 32 hex of its IQN's SHA-256. */
  initiators(): TargetListEntry[] {
    const seen = new Set<string>();
    for (const e of this.ctx.store.listExports()) for (const i of e.initiators) seen.add(i);
    return [...seen].sort().map((iqn) => ({ id: createHash("sha256").update(iqn).digest("hex").slice(0, 32), name: iqn, address: iqn }));
  }
}
