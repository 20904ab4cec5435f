/**
 * iSCSI exports: one tgtd target per volume (IQN `<prefix>:<volume id>`), the volume as LUN 1
 * (tgtd's LUN 0 is its controller), an ACL of lower-cased initiator IQNs, optional CHAP. The
 * records are the truth; tgtd is re-made from them whenever it restarts.
 */
import type { CoreContext } from "./context";
import { targetLock, volumeLock } from "./context";
import { DomainError } from "./domain-error";
import type { StartedJob } from "./jobs";
import { requireWritable } from "./replica-service";
import type { TargetSpec } from "./ports";
import type { ChapSecretRecord, ExportRecord, VolumeRecord } from "./records";
import type { ExportGrant, ExportRevocation } from "./commands";

type ChapDirection = "chap" | "mutualChap";

export const EXPORT_LUN = 1;

export class ExportService {
  /** Volumes whose target is taken down on purpose for a while (a move): re-applies leave them out. */
  private readonly withdrawn = new Set<string>();

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
      ...this.ctx.volumeEngine.lunBacking(volume.poolId, volume.id),
      cacheMode: volume.cacheMode,
      initiators: record.initiators,
    };
    if (record.chap !== null) spec.chap = record.chap;
    if (record.mutualChap !== null) spec.mutualChap = record.mutualChap;
    return spec;
  }

  assign(volumeId: string, grant: ExportGrant): Promise<StartedJob> {
    if (grant.protocol === "fc") throw noFcTarget();
    if (grant.lun !== 0 && grant.lun !== EXPORT_LUN) {
      throw new DomainError("INVALID_ARGUMENT",
        `this server exports every volume as LUN ${EXPORT_LUN}; send 0 (server's choice) or ${EXPORT_LUN}`, "lun");
    }
    const auth = grant.authentication;
    if (auth !== undefined && auth.mutualChap !== null && auth.chap === null) {
      throw new DomainError("INVALID_ARGUMENT", "mutual CHAP needs CHAP as well", "authentication.mutualChap");
    }
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId)],
      objectType: "volume",
      objectId: volumeId,
      operation: "assign",
      admit: () => {
        const volume = this.ctx.store.getVolume(volumeId);
        if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`);
        if (volume.state !== "available") throw new DomainError("BUSY", `volume ${volumeId} is ${volume.state}`);
        requireWritable(this.ctx, volumeId, "be exported");
        // A pool delete removes the exports of its volumes; none may be made behind it.
        if (this.ctx.store.getPool(volume.poolId)?.state === "deleting") throw new DomainError("BUSY", `pool ${volume.poolId} of volume ${volumeId} is being deleted`);
        const before = this.ctx.store.getExport(volumeId);
        const initiators = [...(before?.initiators ?? [])];
        for (const iqn of grant.initiators.map((p) => p.toLowerCase())) {
          if (!initiators.includes(iqn)) initiators.push(iqn);
        }
        const after: ExportRecord = {
          volumeId,
          tid: before?.tid ?? this.ctx.store.nextFreeTid(),
          iqn: before?.iqn ?? this.iqnOf(volumeId),
          lun: EXPORT_LUN,
          logicalUnitName: grant.logicalUnitName ?? before?.logicalUnitName ?? volumeId,
          initiators,
          chap: auth === undefined ? before?.chap ?? null : auth.chap,
          mutualChap: auth === undefined ? before?.mutualChap ?? null : auth.mutualChap,
          ctime: before?.ctime ?? Date.now(),
        };
        this.refuseSharedChapAccounts(after);
        this.ctx.store.putExport(after);
        return { before, after };
      },
      work: ({ after }) => this.converge(after.tid, volumeId),
      undo: async ({ before, after }) => {
        if (before === undefined) this.ctx.store.deleteExport(volumeId);
        else this.ctx.store.putExport(before);
        await this.converge(after.tid, volumeId);
      },
    });
  }

  /**
   * tgtd keeps one account per user name for all targets, so an export that named a user another
   * export uses with a different secret, or in the other direction, would silently re-key that
   * export's account. A user name may be shared only with the same secret and direction.
   */
  private refuseSharedChapAccounts(wanted: ExportRecord): void {
    const field = (direction: ChapDirection): string => `authentication.${direction}.username`;
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
  unassign(volumeId: string, revocation: ExportRevocation): Promise<StartedJob> {
    if (revocation.protocol === "fc") throw noFcTarget();
    return this.ctx.jobs.start({
      lockKeys: [volumeLock(volumeId)],
      objectType: "volume",
      objectId: volumeId,
      operation: "unassign",
      admit: () => {
        const volume = this.ctx.store.getVolume(volumeId);
        if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`);
        const before = this.ctx.store.getExport(volumeId);
        if (before === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} is not exported`);
        if (revocation.targetIqn !== "" && revocation.targetIqn.toLowerCase() !== before.iqn.toLowerCase()) {
          throw new DomainError("NOT_FOUND", `volume ${volumeId} is not exported on target ${revocation.targetIqn}`, "targetIqn");
        }
        const removing = new Set(revocation.initiators.map((p) => p.toLowerCase()));
        const kept = before.initiators.filter((i) => !removing.has(i));
        if (kept.length === before.initiators.length) {
          throw new DomainError("NOT_FOUND", `none of ${revocation.initiators.join(", ")} is assigned to volume ${volumeId}`, "initiators");
        }
        const after: ExportRecord = { ...before, initiators: kept };
        if (kept.length === 0) this.ctx.store.deleteExport(volumeId);
        else this.ctx.store.putExport(after);
        return before;
      },
      work: (before) => this.converge(before.tid, volumeId),
      undo: async (before) => {
        this.ctx.store.putExport(before);
        await this.converge(before.tid, volumeId);
      },
    });
  }

  /** Called by jobs that hold the volume's lock. */
  async removeExport(volumeId: string): Promise<void> {
    const record = this.ctx.store.getExport(volumeId);
    if (record === undefined) return;
    await this.onTarget(record.tid, () => this.ctx.targetEngine.removeTarget(record.tid));
    this.ctx.store.deleteExport(volumeId);
  }

  /**
   * After a volume grew, changed cache mode or moved: the LUN is made again from the record
   * (new size, flags or backing file); logged-in initiators keep their sessions.
   */
  async reapplyLun(volume: VolumeRecord): Promise<void> {
    const record = this.ctx.store.getExport(volume.id);
    if (record === undefined) return;
    await this.onTarget(record.tid, async () => {
      const current = this.ctx.store.getExport(volume.id);
      if (current !== undefined && !this.withdrawn.has(volume.id)) await this.ctx.targetEngine.refreshLunSize(this.specOf(current, volume));
    });
  }

  /**
   * Runs `work` (a move of the volume's data) with the volume's target down, so no initiator can
   * log in and write to a copy about to be left behind; not even a re-apply after a tgtd restart
   * brings it back meanwhile. A failed `work` gets the target back as the records then say.
   */
  async whileWithdrawn(volumeId: string, work: () => Promise<void>): Promise<void> {
    const record = this.ctx.store.getExport(volumeId);
    if (record === undefined) return work();
    this.withdrawn.add(volumeId);
    try {
      await this.onTarget(record.tid, () => this.ctx.targetEngine.removeTarget(record.tid));
      await work();
      this.withdrawn.delete(volumeId);
    } catch (error) {
      this.withdrawn.delete(volumeId);
      await this.converge(record.tid, volumeId);
      throw error;
    }
  }

  /**
   * Runs `work` with the volume's LUN closed (its target and sessions stay logged in): for changes
   * the backing store must not have open meanwhile. The LUN comes back afterwards, whether `work`
   * succeeded or not, as the records then say.
   */
  async whileLunClosed(volumeId: string, work: () => Promise<void>): Promise<void> {
    const record = this.ctx.store.getExport(volumeId);
    if (record === undefined) return work();
    this.withdrawn.add(volumeId);
    try {
      await this.onTarget(record.tid, () => this.ctx.targetEngine.closeLun(record.tid, record.lun));
      await work();
    } finally {
      this.withdrawn.delete(volumeId);
      await this.converge(record.tid, volumeId);
    }
  }

  /**
   * Makes tgtd hold exactly the recorded exports (server start, tgtd restart). Returns the ids
   * of volumes whose export could not be applied. Each target is locked only while its own
   * commands run, so a job that holds a volume for minutes (a move, a thick grow) delays no
   * other volume's export.
   */
  async reapplyAll(): Promise<string[]> {
    const failed: string[] = [];
    for (const record of this.ctx.store.listExports()) {
      try {
        await this.converge(record.tid, record.volumeId);
      } catch (e) {
        failed.push(record.volumeId);
        this.ctx.log(`re-applying the export of volume ${record.volumeId} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const tid of await this.ctx.targetEngine.listTargetIds()) {
      await this.onTarget(tid, async () => {
        // Looked up under the lock: an export made since the list above keeps its target.
        if (!this.ctx.store.listExports().some((r) => r.tid === tid)) await this.ctx.targetEngine.removeTarget(tid);
      });
    }
    return failed;
  }

  /**
   * Makes target `tid` what the records say now, read under the target's lock: whoever applies
   * last applies the newest record, so a re-apply racing a job never restores an older one.
   */
  private converge(tid: number, volumeId: string): Promise<void> {
    return this.onTarget(tid, async () => {
      const record = this.ctx.store.getExport(volumeId);
      const volume = this.ctx.store.getVolume(volumeId);
      if (record?.tid === tid && volume !== undefined && !this.withdrawn.has(volumeId)) {
        await this.ctx.targetEngine.applyTarget(this.specOf(record, volume));
      } else if (this.withdrawn.has(volumeId) || !this.ctx.store.listExports().some((r) => r.tid === tid)) {
        await this.ctx.targetEngine.removeTarget(tid);
      }
    });
  }

  /** tgtd commands on one target run under that target's lock, held for the commands only. */
  private async onTarget<T>(tid: number, commands: () => Promise<T>): Promise<T> {
    const release = await this.ctx.jobs.lock.acquire([targetLock(tid)]);
    try {
      return await commands();
    } finally {
      release();
    }
  }
}

function noFcTarget(): DomainError {
  return new DomainError("UNSUPPORTED", "no FC target engine on this host; only iSCSI exports exist here", "protocol");
}
