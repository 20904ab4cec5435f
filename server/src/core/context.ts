import type { MetadataStore } from "./metadata-store";
import type { ImageEngine, PoolEngine, TargetEngine, VolumeEngine } from "./ports";
import type { JobRunner } from "./jobs";

export interface CoreSettings {
  /** iSCSI portals ("host:port") replies list for every export. */
  portals: string[];
  /** Target IQNs are `<iqnPrefix>:<volume id>`. */
  iqnPrefix: string;
  /** Block devices a pool may be built from (a client never picks arbitrary host devices). */
  allowedBlockDevices: string[];
  /** Ceph config and keyring files an rbd pool may name (a client never picks arbitrary host files). Absent: none. */
  allowedCephFiles?: string[];
  /** Directories images may be imported from and exported to (besides each pool's own image directory). */
  imageDirectories: string[];
  vendor: string;
  version: string;
  serverName: string;
  /** Finished events older than this are deleted, so the events table stays bounded (default 30 days). */
  eventRetentionMs?: number;
  /** Jobs running or waiting for locks at once; beyond it requests get 503 OVERLOADED (default 64). */
  maxJobs?: number;
  /** Bytes of the state directory's filesystem that pools and thick volumes never count on (default 256 MiB). */
  hostFreeFloorBytes?: number;
}

/** What the parts of core share. */
export interface CoreContext {
  store: MetadataStore;
  poolEngine: PoolEngine;
  volumeEngine: VolumeEngine;
  targetEngine: TargetEngine;
  /** Absent: image import and export answer UNSUPPORTED. */
  imageEngine?: ImageEngine | undefined;
  jobs: JobRunner;
  settings: CoreSettings;
  log: (message: string) => void;
}

/**
 * Held only while tgtd commands change one target (never for a job's whole work), so that a
 * re-apply after a tgtd restart and an export change never interleave on that target.
 */
export const targetLock = (tid: number): string => `target:${tid}`;
export const poolLock = (id: string): string => `pool:${id}`;
/** Held by a pool's scrub or dedupe (volumes stay usable meanwhile) and by its delete. */
export const poolMaintenanceLock = (id: string): string => `pool-maintenance:${id}`;
export const volumeLock = (id: string): string => `volume:${id}`;
export const imageLock = (id: string): string => `image:${id}`;
export const groupLock = (id: string): string => `volgroup:${id}`;
export const replicationLock = (id: string): string => `replication:${id}`;
