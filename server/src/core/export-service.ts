/**
 * iSCSI exports: one tgtd target per volume (IQN `<prefix>:<volume id>`), the volume as LUN 1
 * (tgtd's LUN 0 is its controller), an ACL of lower-cased initiator IQNs, optional CHAP. The
 * records are the truth; tgtd is re-made from them whenever it restarts.
 */
import type { CoreContext } from "./context";
import { TARGET_ENGINE_LOCK, volumeLock } from "./context";
import { DomainError } from "./domain-error";
import type { StartedJob } from "./jobs";
import type { TargetSpec } from "./ports";
import type { ChapSecretRecord, ExportRecord, VolumeRecord } from "./records";
import type { ExportAssignRequest, ExportUnassignRequest } from "./requests";

type ChapDirection = "chap" | "mutualChap";

export const EXPORT_LUN = 1;

export class ExportService {
  constructor(private readonly ctx: CoreContext) {}

  get(volumeId: string): ExportRecord | undefined {
    return this.ctx.store.getExport(volumeId);
  }

  list(): ExportRecord[] {
    return this.ctx.store.listExports();
  }

  iqnOf(volumeId: string): string {
    return `${this.ctx.settings.iqnPrefix}:${volumeId}`;
  }

  specOf(record: ExportRecord, volume: VolumeRecord): TargetSpec {
    const spec: TargetSpec = {
      iqn: record.iqn,
      tid: record.tid,
      lun: record.lun,
      backingPath: this.ctx.poolEngine.volumeDataPath(volume.poolId, volume.id),
      cacheMode: volume.cacheMode,
      initiators: record.initiators,
    };
    if (record.chap !== null) spec.chap = record.chap;
    if (record.mutualChap !== null) spec.mutualChap = record.mutualChap;
    return spec;
  }

  assign(volumeId: string, body: ExportAssignRequest): Promise<StartedJob> {
    const requested = body.exports;
    if (!("Network/iSCSI" in requested)) {
      throw new DomainError("UNSUPPORTED", "no FC target engine on this host; only Network/iSCSI exports exist here", "exports.Network/FC");
    }
    const request = requested["Network/iSCSI"];
    if (request.logical_unit_number !== 0 && request.logical_unit_number !== EXPORT_LUN) {
      throw new DomainError("INVALID_ARGUMENT",
        `this server exports every volume as LUN ${EXPORT_LUN}; send 0 (server's choice) or ${EXPORT_LUN}`, "exports.Network/iSCSI.logical_unit_number");
    }
    const auth = request.authentication;
    if (auth?.mutual_chap !== undefined && auth.chap === undefined) {
      throw new DomainError("INVALID_ARGUMENT", "mutual_chap needs chap as well", "exports.Network/iSCSI.authentication.mutual_chap");
    }
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId), TARGET_ENGINE_LOCK],
      objectType: "volume",
      objectId: volumeId,
      operation: "assign",
      admit: () => {
        const volume = this.ctx.store.getVolume(volumeId);
        if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`);
        if (volume.state !== "available") throw new DomainError("BUSY", `volume ${volumeId} is ${volume.state}`);
        const before = this.ctx.store.getExport(volumeId);
        const initiators = [...(before?.initiators ?? [])];
        for (const iqn of request.permissions.map((p) => p.toLowerCase())) {
          if (!initiators.includes(iqn)) initiators.push(iqn);
        }
        const after: ExportRecord = {
          volumeId,
          tid: before?.tid ?? this.ctx.store.nextFreeTid(),
          iqn: before?.iqn ?? this.iqnOf(volumeId),
          lun: EXPORT_LUN,
          logicalUnitName: request.logical_unit_name ?? before?.logicalUnitName ?? volumeId,
          initiators,
          chap: auth === undefined ? before?.chap ?? null : auth.chap ?? null,
          mutualChap: auth === undefined ? before?.mutualChap ?? null : auth.mutual_chap ?? null,
          ctime: before?.ctime ?? Date.now(),
        };
        this.refuseSharedChapAccounts(after);
        this.ctx.store.putExport(after);
        return { volume, before, after };
      },
      work: async ({ volume, after }) => {
        await this.ctx.targetEngine.applyTarget(this.specOf(after, volume));
      },
      undo: async ({ volume, before, after }) => {
        if (before === undefined) {
          await this.ctx.targetEngine.removeTarget(after.tid);
          this.ctx.store.deleteExport(volumeId);
        } else {
          this.ctx.store.putExport(before);
          await this.ctx.targetEngine.applyTarget(this.specOf(before, volume));
        }
      },
    });
  }

  /**
   * tgtd keeps one account per user name for all targets, so an export that named a user another
   * export uses with a different secret, or in the other direction, would silently re-key that
   * export's account. A user name may be shared only with the same secret and direction.
   */
  private refuseSharedChapAccounts(wanted: ExportRecord): void {
    const field = (direction: ChapDirection): string => `exports.Network/iSCSI.authentication.${direction === "chap" ? "chap" : "mutual_chap"}.username`;
    const accounts = (record: ExportRecord): { direction: ChapDirection; account: ChapSecretRecord }[] => [
      ...(record.chap === null ? [] : [{ direction: "chap" as const, account: record.chap }]),
      ...(record.mutualChap === null ? [] : [{ direction: "mutualChap" as const, account: record.mutualChap }]),
    ];
    const mine = accounts(wanted);
    if (wanted.chap !== null && wanted.chap.username === wanted.mutualChap?.username) {
      throw new DomainError("CONFLICT", `CHAP user ${wanted.chap.username} cannot be both the initiator's and the target's (mutual) account`, field("mutualChap"));
    }
    for (const other of this.ctx.store.listExports()) {
      if (other.volumeId === wanted.volumeId) continue;
      for (const theirs of accounts(other)) {
        const clash = mine.find((m) => m.account.username === theirs.account.username);
        if (clash === undefined) continue;
        if (clash.direction !== theirs.direction) {
          throw new DomainError("CONFLICT", `CHAP user ${clash.account.username} is the ${theirs.direction === "chap" ? "initiator" : "mutual (target)"} account of volume ${other.volumeId}'s export; use another user name`, field(clash.direction));
        }
        if (clash.account.secret !== theirs.account.secret) {
          throw new DomainError("CONFLICT", `CHAP user ${clash.account.username} is in use by volume ${other.volumeId}'s export with another secret (tgtd's accounts are shared by all targets); use another user name or the same secret`, field(clash.direction));
        }
      }
    }
  }

  /** Initiators match case-insensitively (the historical client unassigns in the connector's case, D22). */
  unassign(volumeId: string, body: ExportUnassignRequest): Promise<StartedJob> {
    const requested = body.exports;
    if (!("Network/iSCSI" in requested)) {
      throw new DomainError("UNSUPPORTED", "no FC target engine on this host; only Network/iSCSI exports exist here", "exports.Network/FC");
    }
    const request = requested["Network/iSCSI"];
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId), TARGET_ENGINE_LOCK],
      objectType: "volume",
      objectId: volumeId,
      operation: "unassign",
      admit: () => {
        const volume = this.ctx.store.getVolume(volumeId);
        if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`);
        const before = this.ctx.store.getExport(volumeId);
        if (before === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} is not exported`);
        if (request.target_identifier !== "" && request.target_identifier.toLowerCase() !== before.iqn.toLowerCase()) {
          throw new DomainError("NOT_FOUND", `volume ${volumeId} is not exported on target ${request.target_identifier}`, "exports.Network/iSCSI.target_identifier");
        }
        const removing = new Set(request.permissions.map((p) => p.toLowerCase()));
        const kept = before.initiators.filter((i) => !removing.has(i));
        if (kept.length === before.initiators.length) {
          throw new DomainError("NOT_FOUND", `none of ${request.permissions.join(", ")} is assigned to volume ${volumeId}`, "exports.Network/iSCSI.permissions");
        }
        const after: ExportRecord = { ...before, initiators: kept };
        if (kept.length === 0) this.ctx.store.deleteExport(volumeId);
        else this.ctx.store.putExport(after);
        return { volume, before, after };
      },
      work: async ({ volume, after }) => {
        if (after.initiators.length === 0) await this.ctx.targetEngine.removeTarget(after.tid);
        else await this.ctx.targetEngine.applyTarget(this.specOf(after, volume));
      },
      undo: async ({ volume, before }) => {
        this.ctx.store.putExport(before);
        await this.ctx.targetEngine.applyTarget(this.specOf(before, volume));
      },
    });
  }

  /** Called by jobs that hold the volume's and tgtd's locks. */
  async removeExport(volumeId: string): Promise<void> {
    const record = this.ctx.store.getExport(volumeId);
    if (record === undefined) return;
    await this.ctx.targetEngine.removeTarget(record.tid);
    this.ctx.store.deleteExport(volumeId);
  }

  /**
   * After a volume grew, changed cache mode or moved: the LUN is made again from the record
   * (new size, flags or backing file); logged-in initiators keep their sessions.
   */
  async reapplyLun(volume: VolumeRecord): Promise<void> {
    const record = this.ctx.store.getExport(volume.id);
    if (record !== undefined) await this.ctx.targetEngine.refreshLunSize(this.specOf(record, volume));
  }

  /**
   * Makes tgtd hold exactly the recorded exports (server start, tgtd restart). Returns the ids
   * of volumes whose export could not be applied.
   */
  async reapplyAll(): Promise<string[]> {
    const release = await this.ctx.jobs.lock.acquire([TARGET_ENGINE_LOCK]);
    try {
      const failed: string[] = [];
      const wanted = new Set<number>();
      for (const record of this.ctx.store.listExports()) {
        wanted.add(record.tid);
        const volume = this.ctx.store.getVolume(record.volumeId);
        if (volume === undefined) continue;
        try {
          await this.ctx.targetEngine.applyTarget(this.specOf(record, volume));
        } catch (e) {
          failed.push(record.volumeId);
          this.ctx.log(`re-applying the export of volume ${record.volumeId} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      for (const tid of await this.ctx.targetEngine.listTargetIds()) {
        if (!wanted.has(tid)) await this.ctx.targetEngine.removeTarget(tid);
      }
      return failed;
    } finally {
      release();
    }
  }
}
