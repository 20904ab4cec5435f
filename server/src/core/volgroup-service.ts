/**
 * Volume groups (Cinder consistency groups): membership is bookkeeping only; a group snapshot
 * snapshots every member (each a normal volume snapshot) at one instant as initiators see it
 * (their I/O held meanwhile) and records `member: {volume: snap}`.
 * Deleting a group keeps its member volumes and their snapshots; only the grouping goes.
 */
import type { CoreContext } from "./context";
import { groupLock, volumeLock } from "./context";
import { DomainError, notFound } from "./domain-error";
import { newHexId, ReuseEvent, type StartedJob } from "./jobs";
import { requireGroupUnreplicated } from "./replica-service";
import type { GroupSnapshotRecord, SnapshotRecord, VolumeGroupRecord } from "./records";
import type { MembershipChange, NewSnapshot, NewVolumeGroup } from "./commands";

export interface VolumeGroupView {
  group: VolumeGroupRecord;
  memberIds: string[];
  totalBytes: number;
}

export class VolumeGroupService {
  constructor(private readonly ctx: CoreContext) {}

  list(): VolumeGroupRecord[] {
    return this.ctx.store.listVolumeGroups();
  }

  find(id: string): VolumeGroupRecord | undefined {
    return this.ctx.store.getVolumeGroup(id);
  }

  findSnapshot(snapshotId: string): GroupSnapshotRecord | undefined {
    return this.ctx.store.getGroupSnapshot(snapshotId);
  }

  require(id: string): VolumeGroupRecord {
    const group = this.ctx.store.getVolumeGroup(id);
    if (group === undefined) throw notFound("volume group", id);
    return group;
  }

  view(id: string): VolumeGroupView {
    const group = this.require(id);
    const members = this.ctx.store.listVolumes().filter((v) => v.volumeGroupId === id);
    return { group, memberIds: members.map((v) => v.id), totalBytes: members.reduce((s, v) => s + v.sizeBytes, 0) };
  }

  /** Synchronous: the historical client treats a 202 from group create as failure. */
  async create(id: string, group: NewVolumeGroup): Promise<VolumeGroupView> {
    const release = await this.ctx.jobs.lock.acquire([groupLock(id), ...group.volumeIds.map(volumeLock)]);
    try {
      const existing = this.ctx.store.getVolumeGroup(id);
      if (existing !== undefined) {
        if (existing.name !== (group.name ?? null)) throw new DomainError("ALREADY_EXISTS", `volume group ${id} already exists with a different name`);
        return this.view(id);
      }
      this.checkJoinable(group.volumeIds, id);
      this.ctx.store.transaction(() => {
        this.ctx.store.insertVolumeGroup({
          id,
          name: group.name ?? null,
          description: group.description ?? null,
          maximumSnapshot: group.maximumSnapshot ?? 1024,
          snapshotRotation: group.snapshotRotation ?? false,
          ctime: Date.now(),
        });
        for (const volumeId of group.volumeIds) this.setGroup(volumeId, id);
      });
      return this.view(id);
    } finally {
      release();
    }
  }

  /** Each volume exists and is in no other group; a refusal names its index in `volumeIds`. */
  private checkJoinable(volumeIds: readonly string[], groupId: string): void {
    volumeIds.forEach((volumeId, i) => {
      const field = `volumeIds.${i}`;
      const volume = this.ctx.store.getVolume(volumeId);
      if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`, field);
      if (volume.volumeGroupId !== null && volume.volumeGroupId !== groupId) {
        throw new DomainError("CONFLICT", `volume ${volumeId} already belongs to volume group ${volume.volumeGroupId}`, field);
      }
    });
  }

  private setGroup(volumeId: string, groupId: string | null): void {
    const volume = this.ctx.store.getVolume(volumeId);
    if (volume !== undefined) this.ctx.store.updateVolume({ ...volume, volumeGroupId: groupId, mtime: Date.now() });
  }

  /** Join/leave are idempotent; leaving a group one is not in changes nothing. */
  async membership(id: string, change: MembershipChange): Promise<VolumeGroupView> {
    const release = await this.ctx.jobs.lock.acquire([groupLock(id), ...change.volumeIds.map(volumeLock)]);
    try {
      this.require(id);
      requireGroupUnreplicated(this.ctx, id, change.operation === "join" ? "take members" : "lose members");
      if (change.operation === "join") {
        this.checkJoinable(change.volumeIds, id);
        this.ctx.store.transaction(() => {
          for (const volumeId of change.volumeIds) this.setGroup(volumeId, id);
        });
      } else {
        change.volumeIds.forEach((volumeId, i) => {
          if (this.ctx.store.getVolume(volumeId) === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`, `volumeIds.${i}`);
        });
        this.ctx.store.transaction(() => {
          for (const volumeId of change.volumeIds) {
            if (this.ctx.store.getVolume(volumeId)?.volumeGroupId === id) this.setGroup(volumeId, null);
          }
        });
      }
      return this.view(id);
    } finally {
      release();
    }
  }

  async delete(id: string): Promise<void> {
    const release = await this.ctx.jobs.lock.acquire([groupLock(id)]);
    try {
      this.require(id);
      requireGroupUnreplicated(this.ctx, id, "be deleted");
      this.ctx.store.transaction(() => {
        for (const volume of this.ctx.store.listVolumes().filter((v) => v.volumeGroupId === id)) this.setGroup(volume.id, null);
        for (const snapshot of this.ctx.store.listGroupSnapshots(id)) this.ctx.store.deleteGroupSnapshot(snapshot.id);
        this.ctx.store.deleteVolumeGroup(id);
      });
    } finally {
      release();
    }
  }

  listSnapshots(groupId: string): GroupSnapshotRecord[] {
    this.require(groupId);
    return this.ctx.store.listGroupSnapshots(groupId);
  }

  getSnapshot(groupId: string, snapshotId: string): GroupSnapshotRecord {
    const snapshot = this.ctx.store.getGroupSnapshot(snapshotId);
    if (snapshot?.groupId !== groupId) throw notFound("group snapshot", `${groupId}/${snapshotId}`);
    return snapshot;
  }

  createSnapshot(groupId: string, snapshot: NewSnapshot): Promise<StartedJob> {
    const snapshotId = snapshot.snapshotId;
    const memberIds = this.ctx.store.listVolumes().filter((v) => v.volumeGroupId === groupId).map((v) => v.id);
    return this.ctx.jobs.start({
      lockKeys: [groupLock(groupId), ...memberIds.map(volumeLock)],
      objectType: "volume_group",
      objectId: groupId,
      operation: "snapshot",
      admit: () => {
        const group = this.require(groupId);
        const existing = this.ctx.store.getGroupSnapshot(snapshotId);
        if (existing !== undefined) {
          if (existing.groupId !== groupId) throw new DomainError("ALREADY_EXISTS", `group snapshot ${snapshotId} belongs to group ${existing.groupId}`, "snapshotId");
          return new ReuseEvent(this.ctx.jobs.lastEvent("volume_group", groupId, "snapshot"));
        }
        const members = this.ctx.store.listVolumes().filter((v) => v.volumeGroupId === groupId);
        if (members.some((v) => !memberIds.includes(v.id))) throw new DomainError("BUSY", `volume group ${groupId} changed; retry`);
        const busy = members.find((v) => v.state !== "available");
        if (busy !== undefined) throw new DomainError("BUSY", `member volume ${busy.id} is ${busy.state}`);
        const now = Date.now();
        const memberSnapshots: SnapshotRecord[] = members.map((v) => ({
          id: newHexId(), volumeId: v.id, poolId: v.poolId, name: snapshot.name ?? snapshotId,
          description: snapshot.description ?? null, sizeBytes: v.sizeBytes, volumeGroupId: groupId,
          groupSnapshotId: snapshotId, state: "creating", ctime: now,
        }));
        const record: GroupSnapshotRecord = {
          id: snapshotId, groupId, name: snapshot.name ?? snapshotId,
          description: snapshot.description ?? null,
          members: Object.fromEntries(memberSnapshots.map((s) => [s.volumeId, s.id])), ctime: now,
        };
        const existingSnapshots = this.ctx.store.listGroupSnapshots(groupId);
        const rotateOut = existingSnapshots.length >= group.maximumSnapshot
          ? existingSnapshots.slice(0, existingSnapshots.length - group.maximumSnapshot + 1) : [];
        if (rotateOut.length > 0 && !group.snapshotRotation) {
          throw new DomainError("CONFLICT", `volume group ${groupId} already has its maximum of ${group.maximumSnapshot} snapshots`, "snapshotId");
        }
        this.ctx.store.transaction(() => {
          this.ctx.store.insertGroupSnapshot(record);
          for (const s of memberSnapshots) this.ctx.store.insertSnapshot(s);
        });
        return { record, memberSnapshots, rotateOut };
      },
      work: async ({ memberSnapshots, rotateOut }) => {
        // The locks keep other requests out, but initiators of exported members keep writing:
        // their targets hold I/O while all members are snapshotted, so the snapshots share one
        // instant as the initiators see it.
        const tids = memberSnapshots.flatMap((s) => this.ctx.store.getExport(s.volumeId)?.tid ?? []);
        await this.ctx.targetEngine.withIoPaused(tids, async () => {
          for (const s of memberSnapshots) await this.ctx.volumeEngine.createSnapshot(s.poolId, s.volumeId, s.id);
        });
        for (const s of memberSnapshots) this.ctx.store.setSnapshotState(s.id, "available");
        for (const old of rotateOut) await this.removeGroupSnapshot(old);
      },
      undo: async ({ record, memberSnapshots }) => {
        for (const s of memberSnapshots) {
          await this.ctx.volumeEngine.deleteSnapshot(s.poolId, s.id);
          this.ctx.store.deleteSnapshot(s.id);
        }
        this.ctx.store.deleteGroupSnapshot(record.id);
      },
    });
  }

  private async removeGroupSnapshot(record: GroupSnapshotRecord): Promise<void> {
    for (const memberSnapshotId of Object.values(record.members)) {
      const snapshot = this.ctx.store.getSnapshot(memberSnapshotId);
      if (snapshot === undefined) continue;
      await this.ctx.volumeEngine.deleteSnapshot(snapshot.poolId, snapshot.id);
      this.ctx.store.deleteSnapshot(snapshot.id);
    }
    this.ctx.store.deleteGroupSnapshot(record.id);
  }

  deleteSnapshot(groupId: string, snapshotId: string): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [groupLock(groupId)],
      objectType: "volume_group",
      objectId: groupId,
      operation: "delete_snapshot",
      admit: () => this.getSnapshot(groupId, snapshotId),
      work: async (record) => this.removeGroupSnapshot(record),
      undo: () => undefined,
    });
  }
}
