/**
 * The metadata store core needs (SQLite in engines/sqlite). Calls are synchronous so that an
 * admission check and the record it writes happen without another request in between.
 */
import type {
  EventRecord, ExportRecord, GroupSnapshotRecord, MaintenanceResults, ObjectState, PoolRecord, PoolSettingsChange, ReplicationRecord,
  SnapshotRecord, TargetRecord, VolumeGroupRecord, VolumeRecord,
} from "./records";
import type { PoolDeviceRecord } from "./ports";

export interface MaintenanceScheduleEntry {
  intervalSeconds: number;
  /** When this interval was set (ms): the first run is due one interval later. */
  setAt: number;
}

export interface ScheduledMaintenance extends MaintenanceScheduleEntry {
  poolId: string;
  operation: string;
}

export interface PoolVolumeTotals {
  /** Sum of the volumes' logical sizes. */
  provisionedBytes: number;
  /** Volumes asking for compression of their own (the pool may compress everything anyway). */
  compressedVolumeCount: number;
}

export interface MetadataStore {
  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  close(): void;

  listPools(): PoolRecord[];
  getPool(id: string): PoolRecord | undefined;
  insertPool(pool: PoolRecord): void;
  setPoolState(id: string, state: ObjectState): void;
  /** Sets the settings given (name, description, compression, over-subscription cap), keeps the rest. */
  setPoolSettings(id: string, settings: PoolSettingsChange): void;
  setPoolDevices(poolId: string, devices: PoolDeviceRecord[]): void;
  deletePool(id: string): void;

  listVolumes(poolId?: string): VolumeRecord[];
  /** Ids and names in creation order, without building every record (the list reply at scale). */
  listVolumeNames(): Array<{ id: string; name: string }>;
  /** A pool's volume ids in creation order (its `children`). */
  poolVolumeIds(poolId: string): string[];
  /** Summed over a pool's volumes in SQL (pool detail and admission checks at scale). */
  poolVolumeTotals(poolId: string): PoolVolumeTotals;
  getVolume(id: string): VolumeRecord | undefined;
  insertVolume(volume: VolumeRecord): void;
  updateVolume(volume: VolumeRecord): void;
  deleteVolume(id: string): void;

  listSnapshots(filter?: { volumeId?: string; poolId?: string }): SnapshotRecord[];
  getSnapshot(id: string): SnapshotRecord | undefined;
  insertSnapshot(snapshot: SnapshotRecord): void;
  setSnapshotState(id: string, state: ObjectState): void;
  deleteSnapshot(id: string): void;

  listExports(): ExportRecord[];
  getExport(volumeId: string): ExportRecord | undefined;
  /** Inserts or replaces the export and its initiator list. */
  putExport(record: ExportRecord): void;
  deleteExport(volumeId: string): void;
  /** Smallest positive target id no export uses. */
  nextFreeTid(): number;

  listTargets(): TargetRecord[];
  getTarget(id: string): TargetRecord | undefined;
  insertTarget(target: TargetRecord): void;
  deleteTarget(id: string): void;

  listVolumeGroups(): VolumeGroupRecord[];
  getVolumeGroup(id: string): VolumeGroupRecord | undefined;
  insertVolumeGroup(group: VolumeGroupRecord): void;
  deleteVolumeGroup(id: string): void;

  listGroupSnapshots(groupId: string): GroupSnapshotRecord[];
  getGroupSnapshot(id: string): GroupSnapshotRecord | undefined;
  insertGroupSnapshot(snapshot: GroupSnapshotRecord): void;
  deleteGroupSnapshot(id: string): void;

  insertEvent(event: EventRecord): void;
  getEvent(id: string): EventRecord | undefined;
  /** The newest event of this operation on this object. */
  findLatestEvent(objectId: string, operation: string): EventRecord | undefined;
  finishEvent(id: string, result: Pick<EventRecord, "status" | "errorCode" | "errorMessage" | "finished" | "percent">): void;
  /** Progress of a running event, 0..99 (100 is set by finishEvent). */
  setEventPercent(id: string, percent: number): void;
  /** Keeps the result of a pool's last maintenance job of this kind (JSON-serialisable). */
  putMaintenanceResult<O extends keyof MaintenanceResults>(poolId: string, operation: O, result: MaintenanceResults[O]): void;
  getMaintenanceResult<O extends keyof MaintenanceResults>(poolId: string, operation: O): MaintenanceResults[O] | undefined;
  /** Sets (or, with null, removes) how often the server runs this maintenance on the pool. */
  putMaintenanceSchedule(poolId: string, operation: string, entry: MaintenanceScheduleEntry | null): void;
  /** Every scheduled maintenance, or one pool's. */
  listMaintenanceSchedules(poolId?: string): ScheduledMaintenance[];
  /** Marks events still Processing (left by a crash) as Error; returns how many. */
  failProcessingEvents(message: string, now: number): number;
  /**
   * Deletes events that finished before `finishedBefore` (ms), except those a volume still names
   * as its create event (an idempotent create retry answers with it); returns how many.
   */
  /** Inserts or replaces. */
  putReplication(replication: ReplicationRecord): void;
  getReplication(id: string): ReplicationRecord | undefined;
  listReplications(): ReplicationRecord[];
  /** The relationship whose volume (on this server) this is. */
  findReplicationOfVolume(volumeId: string): ReplicationRecord | undefined;
  deleteReplication(id: string): void;
  pruneFinishedEvents(finishedBefore: number): number;
}
