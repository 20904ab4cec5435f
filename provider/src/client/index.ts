/**
 * The DPL client: one pooled keep-alive connection set per DplClient, TLS verified by default,
 * bounded retries with backoff inside a per-call deadline, every reply parsed with the wire
 * schemas, 202 event waits with `Prefer: wait` long-polls, and errors that name the operation.
 *
 *   const client = new DplClient(DplClientOptions.fromEnvironment(process.env));
 *   const vol = await client.createVolume(id, { poolId, sizeBytes: 10 * 2 ** 30 });
 *   const { connections } = await client.assignIscsi(id, { initiators: [iqn] });
 *   await client.close();
 */
export { DplClient } from "./dpl-client";
export type { ReplicationSpec, ReplicationSettings, ReplicationView } from "./replication-calls";
export type { NamedId, TargetSummary, IscsiAssignment, IscsiAttachment, FcAssignment } from "./export-specs";
export type {
  PoolSpec,
  VolumeSpec,
  VolumeChanges,
  CopySpec,
  CopyFromSnapshotSpec,
  CloneSpec,
  SpawnSpec,
  SnapshotSpec,
  NameSpec,
  TargetSpec,
  VolumeGroupSpec,
  GroupSnapshotSpec,
  ImageVolumeSpec,
  ImageExportSpec,
} from "./specs";
export { DplClientOptions, DplClientOptionsSchema, type DplClientOptionsInput, type ResolvedDplClientOptions } from "./options";
export { iscsiConnectionOf, iscsiUrl, type IscsiConnection } from "./iscsi-connection";
export {
  DplError,
  NotFoundError,
  AuthenticationError,
  DplRequestError,
  DplServerError,
  DplConnectionError,
  DplOperationError,
  DplValidationError,
  ProtocolError,
  TimeoutError,
  type DplErrorDetails,
} from "./errors";
