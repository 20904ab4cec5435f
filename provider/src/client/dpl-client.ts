import type { z } from "zod";
import {
  AcceptedReply,
  CloneBody,
  CopyFromSnapshotBody,
  DiskListReply,
  EventReply,
  ExportAssignBody,
  ExportUnassignBody,
  ImageCreateBody,
  ImageListReply,
  ImageReply,
  PoolCreateBody,
  PoolDeleteBody,
  PoolDeviceChangeBody,
  PoolListReply,
  PoolOperationBody,
  PoolReply,
  PoolScheduleBody,
  PoolSettingsBody,
  type PoolSettings,
  RollbackBody,
  SnapshotCreateBody,
  SnapshotListReply,
  SnapshotReply,
  SpawnBody,
  SystemReply,
  TargetCreateBody,
  TargetListReply,
  TargetReply,
  VolgroupCreateBody,
  VolgroupMembershipBody,
  VolgroupReply,
  VolgroupSnapshotBody,
  VolgroupSnapshotReply,
  IoStatsReply,
  VolumeCreateBody,
  VolumeDeleteBody,
  VolumeFromImageBody,
  VolumeListReply,
  VolumeModifyBody,
  VolumeReply,
  snapshotPath,
  type MaintenanceSchedule,
  type PoolDeviceChange,
  type PoolOperation,
} from "../wire";
import { DplReplicationCalls } from "./replication-calls";
import { paths } from "./paths";
import { iscsiAssignExport, type FcAssignment, type IscsiAssignment, type IscsiAttachment, type NamedId, type TargetSummary } from "./export-specs";
import { DplOperationError, ProtocolError, TimeoutError } from "./errors";
import { iscsiConnectionOf } from "./iscsi-connection";
import type { OperationContext } from "./transport";

import {
  copyMetadata,
  imageCreateBody,
  volumeFromImageBody,
  nameMetadata,
  poolCreateMetadata,
  targetCreateMetadata,
  volumeCreateMetadata,
  volumeGroupCreateMetadata,
  volumeModifyMetadata,
  type CloneSpec,
  type CopyFromSnapshotSpec,
  type GroupSnapshotSpec,
  type ImageExportSpec,
  type ImageVolumeSpec,
  type PoolSpec,
  type SnapshotSpec,
  type SpawnSpec,
  type TargetSpec,
  type VolumeChanges,
  type VolumeGroupSpec,
  type VolumeSpec,
} from "./specs";

type Reply<T extends z.ZodType> = z.output<T>;

/**
 * A client for one DPL server. Every method is one "operation" with its own deadline
 * (`operationTimeoutMs`): retries, long-polls and event waits all happen inside it. Mutating
 * methods return the object as the server has it afterwards (read back with a GET). The
 * replication calls live in their own layer (replication-calls.ts).
 */
export class DplClient extends DplReplicationCalls {
  // ---------------------------------------------------------------- system and pools

  async system(): Promise<Reply<typeof SystemReply>> {
    const ctx = this.context("read system");
    return this.fetch(ctx, paths.system, SystemReply);
  }

  /** The block devices pools may be built from (the server's allow-list), with the pool holding each. */
  async listDisks(): Promise<Reply<typeof DiskListReply>["metadata"]["disks"]> {
    return (await this.fetch(this.context("list disks"), paths.disks, DiskListReply)).metadata.disks;
  }

  async listPools(): Promise<NamedId[]> {
    const reply = await this.fetch(this.context("list pools"), paths.pools, PoolListReply);
    return reply.children.map(([id, name]) => ({ id, name }));
  }

  async getPool(id: string): Promise<Reply<typeof PoolReply> | undefined> {
    const ctx = this.context("read pool", id);
    return this.fetchIfExists(ctx, paths.pool(this.hexId(ctx, id)), PoolReply);
  }

  async createPool(id: string, spec: PoolSpec): Promise<Reply<typeof PoolReply>> {
    const ctx = this.context("create pool", id);
    const path = paths.pool(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, PoolCreateBody, { metadata: poolCreateMetadata(spec) }) });
    return this.finalObject(ctx, reply, id, path, PoolReply);
  }

  /**
   * Adds, removes or replaces devices of an existing pool in place and waits for btrfs to finish
   * (a removal moves the data off first; a replace copies or rebuilds one device). Returns the pool.
   */
  async changePoolDevices(id: string, change: PoolDeviceChange): Promise<Reply<typeof PoolReply>> {
    const ctx = this.context(`${change.device_operation} devices of pool`, id);
    const path = paths.pool(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, PoolDeviceChangeBody, { metadata: change }) });
    return this.finalObject(ctx, reply, id, path, PoolReply);
  }

  /**
   * Changes how often the server scrubs and dedupes the pool on its own (a number of seconds
   * sets, null turns off, an absent key keeps). Returns the pool with its new schedule.
   */
  async setPoolSchedule(id: string, schedule: MaintenanceSchedule): Promise<Reply<typeof PoolReply>> {
    const ctx = this.context("set maintenance schedule of pool", id);
    const path = paths.pool(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, PoolScheduleBody, { metadata: { maintenance_schedule: schedule } }) });
    return this.finalObject(ctx, reply, id, path, PoolReply);
  }

  /**
   * Changes a pool's name, description, compression or over-subscription cap in place (a key
   * given sets, null clears, an absent key keeps). Returns the pool as it now is.
   */
  async changePoolSettings(id: string, settings: PoolSettings): Promise<Reply<typeof PoolReply>> {
    const ctx = this.context("change settings of pool", id);
    const path = paths.pool(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, PoolSettingsBody, { metadata: { pool_settings: settings } }) });
    return this.finalObject(ctx, reply, id, path, PoolReply);
  }

  async deletePool(id: string, options: { force?: boolean } = {}): Promise<void> {
    const ctx = this.context("delete pool", id);
    const body = this.body(ctx, PoolDeleteBody, { metadata: { force: options.force ?? false } });
    await this.mutate(ctx, { method: "DELETE", path: paths.pool(this.hexId(ctx, id)), body }, { notFoundMeansDone: true });
  }

  /**
   * Starts a pool's scrub or dedupe and returns its event id at once (a request while one runs
   * gets the running one's event); follow it with poolEvent or use runPoolOperation.
   */
  async startPoolOperation(id: string, operation: PoolOperation): Promise<string> {
    const ctx = this.context(`start ${operation} of pool`, id);
    const body = this.body(ctx, PoolOperationBody, { metadata: { pool_operation: operation } });
    const reply = await this.transport.send(ctx, { method: "PUT", path: paths.pool(this.hexId(ctx, id)), body });
    if (reply.status !== 202 && reply.status !== 200) throw this.transport.errorForStatus(ctx, reply);
    return this.transport.parse(ctx, AcceptedReply, reply).metadata.event_uuid;
  }

  /** One poll of a pool event; with holdSeconds the server answers when it finishes or then. */
  async poolEvent(id: string, eventId: string, holdSeconds = 0): Promise<Reply<typeof EventReply>> {
    const ctx = this.context("poll pool event", id);
    const path = `${paths.pool(this.hexId(ctx, id))}?event_uuid=${encodeURIComponent(eventId)}`;
    const reply = await this.transport.send(ctx, { method: "GET", path, preferWaitSeconds: holdSeconds, eventId, waitingFor: `event ${eventId}` });
    if (reply.status !== 200) throw this.transport.errorForStatus(ctx, reply);
    return this.transport.parse(ctx, EventReply, reply);
  }

  /** Runs a scrub or dedupe to its end, reporting percentComplete; returns the pool (with last_scrub / last_dedupe). */
  async runPoolOperation(id: string, operation: PoolOperation, onProgress?: (percent: number) => void): Promise<Reply<typeof PoolReply>> {
    const eventId = await this.startPoolOperation(id, operation);
    const ctx = this.context(`${operation} pool`, id);
    for (;;) {
      if (Date.now() > ctx.deadline) {
        throw new TimeoutError({ operation: ctx.operation, objectId: id, timeoutMs: ctx.timeoutMs, waitingFor: `event ${eventId} to finish`, eventId });
      }
      const event = await this.poolEvent(id, eventId, 1);
      onProgress?.(event.percentComplete);
      if (event.completionStatus === "Error") {
        throw new DplOperationError({ operation: ctx.operation, objectId: id, status: 200, code: event.event.error_code, serverMessage: event.event.error_message, eventId });
      }
      if (event.completionStatus === "Complete") return this.fetch(ctx, paths.pool(id), PoolReply);
    }
  }

  // ---------------------------------------------------------------- volumes

  async listVolumes(): Promise<NamedId[]> {
    const reply = await this.fetch(this.context("list volumes"), paths.volumes, VolumeListReply);
    return reply.children.map(([id, name]) => ({ id, name }));
  }

  async getVolume(id: string): Promise<VolumeReply | undefined> {
    const ctx = this.context("read volume", id);
    return this.fetchIfExists(ctx, paths.volume(this.hexId(ctx, id)), VolumeReply);
  }

  async createVolume(id: string, spec: VolumeSpec): Promise<VolumeReply> {
    const ctx = this.context("create volume", id);
    return this.putVolume(ctx, id, this.body(ctx, VolumeCreateBody, { metadata: volumeCreateMetadata(spec) }));
  }

  /** Grows the volume to `newBytes`; the server refuses a shrink (INVALID_ARGUMENT on total_capacity). */
  async extendVolume(id: string, newBytes: number): Promise<VolumeReply> {
    const ctx = this.context("extend volume", id);
    return this.putVolume(ctx, id, this.body(ctx, VolumeModifyBody, { metadata: { total_capacity: newBytes } }));
  }

  /** Changes name, description or snapshot limits (and size, like extend). */
  async modifyVolume(id: string, changes: VolumeChanges): Promise<VolumeReply> {
    const ctx = this.context("modify volume", id);
    return this.putVolume(ctx, id, this.body(ctx, VolumeModifyBody, { metadata: volumeModifyMetadata(changes) }));
  }

  async renameVolume(id: string, name: string, description?: string | null): Promise<VolumeReply> {
    return this.modifyVolume(id, { name, description });
  }

  /** Deletes the volume (forced: also when exported). A volume already gone is success. */
  async deleteVolume(id: string, options: { force?: boolean } = {}): Promise<void> {
    const ctx = this.context("delete volume", id);
    const body = this.body(ctx, VolumeDeleteBody, { metadata: { force: options.force ?? true } });
    await this.mutate(ctx, { method: "DELETE", path: paths.volume(this.hexId(ctx, id)), body }, { notFoundMeansDone: true });
  }

  /** A new independent volume from a snapshot; `total_capacity` may be larger than the snapshot. */
  async copyFromSnapshot(newId: string, sourceVolumeId: string, snapshotId: string, spec: CopyFromSnapshotSpec = {}): Promise<VolumeReply> {
    const ctx = this.context("copy volume from snapshot", newId);
    // The real source volume goes in the path (the historical client put the new id there: D8).
    const copy = snapshotPath(this.hexId(ctx, sourceVolumeId, "source volume id"), this.hexId(ctx, snapshotId, "snapshot id"));
    return this.putVolume(ctx, newId, this.body(ctx, CopyFromSnapshotBody, { metadata: { ...copyMetadata(spec), snapshot_operation: "copy" }, copy }));
  }

  async spawnFromSnapshot(newId: string, sourceVolumeId: string, snapshotId: string, spec: SpawnSpec = {}): Promise<VolumeReply> {
    const ctx = this.context("spawn volume from snapshot", newId);
    const copy = snapshotPath(this.hexId(ctx, sourceVolumeId, "source volume id"), this.hexId(ctx, snapshotId, "snapshot id"));
    return this.putVolume(ctx, newId, this.body(ctx, SpawnBody, { metadata: { ...nameMetadata(spec), snapshot_operation: "spawn" }, copy }));
  }

  async cloneVolume(newId: string, sourceVolumeId: string, spec: CloneSpec = {}): Promise<VolumeReply> {
    const ctx = this.context("clone volume", newId);
    const copy = this.hexId(ctx, sourceVolumeId, "source volume id");
    return this.putVolume(ctx, newId, this.body(ctx, CloneBody, { metadata: { ...copyMetadata(spec), snapshot_operation: "clone" }, copy }));
  }

  /** Rolls the volume's data back to one of its snapshots, in place. */
  async rollbackVolume(volumeId: string, snapshotId: string): Promise<VolumeReply> {
    const ctx = this.context("roll back volume", volumeId);
    const copy = snapshotPath(this.hexId(ctx, volumeId), this.hexId(ctx, snapshotId, "snapshot id"));
    return this.putVolume(ctx, volumeId, this.body(ctx, RollbackBody, { copy }));
  }

  /**
   * A new volume holding an image's disk (a server file inside its image directories, or a URL the
   * server fetches); raw files on the pool's filesystem become reflinks, zero blocks holes.
   */
  async createVolumeFromImage(id: string, spec: ImageVolumeSpec): Promise<VolumeReply> {
    const ctx = this.context("create volume from image", id);
    return this.putVolume(ctx, id, this.body(ctx, VolumeFromImageBody, volumeFromImageBody(spec)));
  }

  // ---------------------------------------------------------------- images

  /** Image files on the server, and the directories it reads and writes them in. */
  async listImages(): Promise<{ images: NamedId[]; directories: string[] }> {
    const reply = await this.fetch(this.context("list images"), paths.images, ImageListReply);
    return { images: reply.children.map(([id, name]) => ({ id, name })), directories: reply.metadata.image_directories };
  }

  async getImage(id: string): Promise<ImageReply | undefined> {
    const ctx = this.context("read image", id);
    return this.fetchIfExists(ctx, paths.image(this.hexId(ctx, id)), ImageReply);
  }

  /** Writes a volume (or one of its snapshots) as an image file on the server. */
  async exportImage(id: string, spec: ImageExportSpec): Promise<ImageReply> {
    const ctx = this.context("export image", id);
    const path = paths.image(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, ImageCreateBody, imageCreateBody(spec)) });
    return this.finalObject(ctx, reply, id, path, ImageReply);
  }

  /** An image already gone is success. */
  async deleteImage(id: string): Promise<void> {
    const ctx = this.context("delete image", id);
    await this.mutate(ctx, { method: "DELETE", path: paths.image(this.hexId(ctx, id)) }, { notFoundMeansDone: true });
  }

  // ---------------------------------------------------------------- snapshots

  async listSnapshots(volumeId: string): Promise<NamedId[]> {
    const ctx = this.context("list snapshots", volumeId);
    const reply = await this.fetch(ctx, paths.snapshots(this.hexId(ctx, volumeId)), SnapshotListReply);
    return reply.children.map(([id, name]) => ({ id, name }));
  }

  async getSnapshot(volumeId: string, snapshotId: string): Promise<Reply<typeof SnapshotReply> | undefined> {
    const ctx = this.context("read snapshot", snapshotId);
    return this.fetchIfExists(ctx, paths.snapshot(this.hexId(ctx, volumeId, "volume id"), this.hexId(ctx, snapshotId)), SnapshotReply);
  }

  async createSnapshot(volumeId: string, snapshotId: string, spec: SnapshotSpec = {}): Promise<Reply<typeof SnapshotReply>> {
    const ctx = this.context("create snapshot", snapshotId);
    const volumePath = paths.volume(this.hexId(ctx, volumeId, "volume id"));
    const body = this.body(ctx, SnapshotCreateBody, { metadata: nameMetadata(spec), snapshot: snapshotId });
    const reply = await this.mutate(ctx, { method: "PUT", path: volumePath, body });
    return this.finalObject(ctx, reply, snapshotId, paths.snapshot(volumeId, snapshotId), SnapshotReply);
  }

  /** A snapshot already gone is success. Events are the parent volume's. */
  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    const ctx = this.context("delete snapshot", snapshotId);
    const volumePath = paths.volume(this.hexId(ctx, volumeId, "volume id"));
    await this.mutate(
      ctx,
      { method: "DELETE", path: paths.snapshot(volumeId, this.hexId(ctx, snapshotId)) },
      { eventPath: volumePath, notFoundMeansDone: true },
    );
  }

  // ---------------------------------------------------------------- iSCSI exports

  /**
   * Lets the initiators log in to the volume over iSCSI and returns how (target IQN, portals,
   * LUN per initiator). Fails rather than returning empty connection info (D21).
   */
  async assignIscsi(volumeId: string, assignment: IscsiAssignment): Promise<IscsiAttachment> {
    const ctx = this.context("assign iSCSI export of volume", volumeId);
    const initiators = assignment.initiators.map((iqn) => iqn.toLowerCase());
    const iscsi = iscsiAssignExport(assignment);
    const body = this.body(ctx, ExportAssignBody, { metadata: { export_operation: "assign" }, exports: { "Network/iSCSI": iscsi } });
    const path = paths.volume(this.hexId(ctx, volumeId));
    const reply = await this.mutate(ctx, { method: "PUT", path, body });
    const volume = await this.finalObject(ctx, reply, volumeId, path, VolumeReply);
    const connections = initiators.map((initiator) => {
      const connection = iscsiConnectionOf(volume, initiator);
      if (connection === undefined) {
        throw new ProtocolError({
          operation: ctx.operation,
          objectId: ctx.objectId,
          field: "exports.Network/iSCSI",
          problem: `the assign succeeded but the volume lists no iSCSI export for ${initiator}`,
        });
      }
      return connection;
    });
    return { volume, connections };
  }

  /** Removes the initiators' access; an assignment (or volume) already gone is success. */
  async unassignIscsi(volumeId: string, initiators: string[]): Promise<void> {
    const ctx = this.context("unassign iSCSI export of volume", volumeId);
    const body = this.body(ctx, ExportUnassignBody, {
      metadata: { export_operation: "unassign" },
      exports: { "Network/iSCSI": { target_identifier: "", permissions: initiators.map((iqn) => iqn.toLowerCase()) } },
    });
    await this.mutate(ctx, { method: "PUT", path: paths.volume(this.hexId(ctx, volumeId)), body }, { notFoundMeansDone: true });
  }

  // ---------------------------------------------------------------- Fibre Channel exports

  /** Maps the volume to the initiator WWPNs on an FC target (§3.20 body). */
  async assignFc(volumeId: string, assignment: FcAssignment): Promise<VolumeReply> {
    const ctx = this.context("assign FC export of volume", volumeId);
    const fc = {
      target_identifier: assignment.targetWwpn,
      logical_unit_number: assignment.lun ?? -1,
      permissions: assignment.initiatorWwpns,
      ...(assignment.lunName === undefined ? {} : { logical_unit_name: assignment.lunName }),
    };
    const body = this.body(ctx, ExportAssignBody, { metadata: { export_operation: "assign" }, exports: { "Network/FC": fc } });
    const path = paths.volume(this.hexId(ctx, volumeId));
    const reply = await this.mutate(ctx, { method: "PUT", path, body });
    return this.finalObject(ctx, reply, volumeId, path, VolumeReply);
  }

  /** Removes the initiators' FC mapping; an assignment (or volume) already gone is success. */
  async unassignFc(volumeId: string, assignment: Omit<FcAssignment, "lun" | "lunName">): Promise<void> {
    const ctx = this.context("unassign FC export of volume", volumeId);
    const body = this.body(ctx, ExportUnassignBody, {
      metadata: { export_operation: "unassign" },
      exports: { "Network/FC": { target_identifier: assignment.targetWwpn, permissions: assignment.initiatorWwpns } },
    });
    await this.mutate(ctx, { method: "PUT", path: paths.volume(this.hexId(ctx, volumeId)), body }, { notFoundMeansDone: true });
  }

  // ---------------------------------------------------------------- targets

  async listTargets(type: "target" | "initiator" = "target"): Promise<TargetSummary[]> {
    const reply = await this.fetch(this.context(`list ${type}s`), paths.targets(type), TargetListReply);
    return reply.children.map(([id, name, address]) => ({ id, name, address }));
  }

  async getTarget(id: string): Promise<Reply<typeof TargetReply> | undefined> {
    const ctx = this.context("read target", id);
    return this.fetchIfExists(ctx, paths.target(this.hexId(ctx, id)), TargetReply);
  }

  async createTarget(id: string, spec: TargetSpec): Promise<Reply<typeof TargetReply>> {
    const ctx = this.context("create target", id);
    const path = paths.target(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, TargetCreateBody, { metadata: targetCreateMetadata(spec) }) });
    return this.finalObject(ctx, reply, id, path, TargetReply);
  }

  async deleteTarget(id: string): Promise<void> {
    const ctx = this.context("delete target", id);
    await this.mutate(ctx, { method: "DELETE", path: paths.target(this.hexId(ctx, id)) }, { notFoundMeansDone: true });
  }

  // ---------------------------------------------------------------- volume groups

  async getVolumeGroup(id: string): Promise<Reply<typeof VolgroupReply> | undefined> {
    const ctx = this.context("read volume group", id);
    return this.fetchIfExists(ctx, paths.volumeGroup(this.hexId(ctx, id)), VolgroupReply);
  }

  async createVolumeGroup(id: string, spec: VolumeGroupSpec = {}): Promise<Reply<typeof VolgroupReply>> {
    const ctx = this.context("create volume group", id);
    const path = paths.volumeGroup(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, VolgroupCreateBody, { metadata: volumeGroupCreateMetadata(spec) }) });
    return this.finalObject(ctx, reply, id, path, VolgroupReply);
  }

  async deleteVolumeGroup(id: string, options: { force?: boolean } = {}): Promise<void> {
    const ctx = this.context("delete volume group", id);
    // The group delete body has the volume delete's shape: {"metadata":{"force":true}}.
    const body = this.body(ctx, VolumeDeleteBody, { metadata: { force: options.force ?? true } });
    await this.mutate(ctx, { method: "DELETE", path: paths.volumeGroup(this.hexId(ctx, id)), body }, { notFoundMeansDone: true });
  }

  async joinVolumeGroup(id: string, volumeIds: string[]): Promise<Reply<typeof VolgroupReply>> {
    return this.changeMembership("join", id, volumeIds);
  }

  async leaveVolumeGroup(id: string, volumeIds: string[]): Promise<Reply<typeof VolgroupReply>> {
    return this.changeMembership("leave", id, volumeIds);
  }

  async getGroupSnapshot(groupId: string, snapshotId: string): Promise<Reply<typeof VolgroupSnapshotReply> | undefined> {
    const ctx = this.context("read group snapshot", snapshotId);
    return this.fetchIfExists(ctx, paths.groupSnapshot(this.hexId(ctx, groupId, "volume group id"), this.hexId(ctx, snapshotId)), VolgroupSnapshotReply);
  }

  /** A crash-consistent snapshot of every member; `metadata.member` maps volume → member snapshot. */
  async createGroupSnapshot(groupId: string, snapshotId: string, spec: GroupSnapshotSpec = {}): Promise<Reply<typeof VolgroupSnapshotReply>> {
    const ctx = this.context("create group snapshot", snapshotId);
    const path = paths.volumeGroupV1(this.hexId(ctx, groupId, "volume group id"));
    const reply = await this.mutate(ctx, { method: "PUT", path, body: this.body(ctx, VolgroupSnapshotBody, { metadata: nameMetadata(spec), snapshot: snapshotId }) });
    return this.finalObject(ctx, reply, snapshotId, paths.groupSnapshot(groupId, snapshotId), VolgroupSnapshotReply);
  }

  async deleteGroupSnapshot(groupId: string, snapshotId: string): Promise<void> {
    const ctx = this.context("delete group snapshot", snapshotId);
    const groupPath = paths.volumeGroupV1(this.hexId(ctx, groupId, "volume group id"));
    await this.mutate(
      ctx,
      { method: "DELETE", path: paths.groupSnapshot(groupId, this.hexId(ctx, snapshotId)) },
      { eventPath: groupPath, notFoundMeansDone: true },
    );
  }

  // ---------------------------------------------------------------- I/O statistics (this server's extension)

  /** Block I/O of the pool's devices: totals, and rates with latency over the last sampling window. */
  async poolIoStats(id: string): Promise<Reply<typeof IoStatsReply> | undefined> {
    const ctx = this.context("read pool I/O statistics", id);
    return this.fetchIfExists(ctx, paths.poolStats(this.hexId(ctx, id)), IoStatsReply);
  }

  /** iSCSI I/O of the volume (all sessions): totals and rates; no latency (tgtd does not measure it). */
  async volumeIoStats(id: string): Promise<Reply<typeof IoStatsReply> | undefined> {
    const ctx = this.context("read volume I/O statistics", id);
    return this.fetchIfExists(ctx, paths.volumeStats(this.hexId(ctx, id)), IoStatsReply);
  }

  // ---------------------------------------------------------------- plumbing

  private async changeMembership(operation: "join" | "leave", id: string, volumeIds: string[]): Promise<Reply<typeof VolgroupReply>> {
    const ctx = this.context(`${operation} volume group`, id);
    const path = paths.volumeGroup(this.hexId(ctx, id));
    const body = this.body(ctx, VolgroupMembershipBody, { metadata: { volume_group_operation: operation, volume: volumeIds } });
    const reply = await this.mutate(ctx, { method: "PUT", path, body });
    return this.finalObject(ctx, reply, id, path, VolgroupReply);
  }

  private async putVolume(ctx: OperationContext, id: string, body: unknown): Promise<VolumeReply> {
    const path = paths.volume(this.hexId(ctx, id));
    const reply = await this.mutate(ctx, { method: "PUT", path, body });
    return this.finalObject(ctx, reply, id, path, VolumeReply);
  }
}
