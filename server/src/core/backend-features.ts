/**
 * What each pool backend can do. btrfs pools do everything; an rbd pool keeps its data in a Ceph
 * cluster, which does some of this itself and cannot do the rest, so those requests are refused
 * up front with what to do instead, before any job starts.
 */
import type { MaintenanceIntervals } from "./commands";
import { DomainError } from "./domain-error";
import type { PoolBackendKind } from "./ports";
import type { PoolRecord } from "./records";

export type BackendFeature =
  | "scrub"
  | "dedupe"
  | "compression"
  | "raid"
  | "devices"
  | "provisioningChange"
  | "images"
  | "replication"
  | "crossPoolCopy";

const REFUSALS: Record<PoolBackendKind, Partial<Record<BackendFeature, string>>> = {
  btrfs: {},
  rbd: {
    scrub: "Ceph scrubs its own placement groups (`ceph pg deep-scrub`, `osd_deep_scrub_interval`); a DPL scrub of an rbd pool is not offered",
    dedupe: "RBD shares blocks only between a snapshot and its clones; dedupe is refused on rbd pools",
    compression: "compression is a setting of the Ceph pool (`ceph osd pool set <pool> compression_mode`), not of an rbd pool",
    raid: "the Ceph pool's size sets how many copies an rbd pool keeps (`ceph osd pool set <pool> size 3`); its RAID level stays single",
    devices: "an rbd pool's data is on the Ceph cluster's OSDs; add or replace OSDs in Ceph",
    provisioningChange: "an RBD image is thick only when made so at creation (`rbd create --thick-provision`); its provisioning cannot change",
    images: "image import and export work on btrfs pools only; on an rbd pool use `rbd import` / `rbd export` to the Ceph pool",
    replication: "DPL replication sends btrfs streams; replicate rbd pools with Ceph's rbd-mirror",
    crossPoolCopy: "copying a volume between an rbd pool and another pool is not offered; snapshot and clone within the pool instead",
  },
};

/** Refuses `feature` on this pool's backend, naming the input that asked for it. */
export function requireBackendSupports(pool: Pick<PoolRecord, "id" | "backend">, feature: BackendFeature, field?: string): void {
  const refusal = REFUSALS[pool.backend][feature];
  if (refusal !== undefined) throw new DomainError("UNSUPPORTED", `pool ${pool.id} is an ${pool.backend} pool: ${refusal}`, field);
}

/** A schedule that turns scrub or dedupe on is refused where the backend does neither. */
export function requireScheduleSupported(pool: Pick<PoolRecord, "id" | "backend">, schedule: MaintenanceIntervals, field: string): void {
  if (typeof schedule.scrubEverySeconds === "number") requireBackendSupports(pool, "scrub", `${field}.scrub_every_seconds`);
  if (typeof schedule.dedupeEverySeconds === "number") requireBackendSupports(pool, "dedupe", `${field}.dedupe_every_seconds`);
}
