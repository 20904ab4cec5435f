import { z } from "zod";
import { Envelope } from "./envelope";

/** What this server can do; the provider checks it before asking for a feature. */
export const Capabilities = z.object({
  protocols: z.array(z.enum(["iscsi", "fc"])),
  raid_levels: z.array(z.string()),
  compression: z.array(z.string()),
  thin_provisioning: z.boolean(),
  snapshots: z.boolean(),
  clones: z.boolean(),
  rollback: z.boolean(),
  volume_groups: z.boolean(),
  chap: z.boolean(),
  dedupe: z.boolean(),
  scrub: z.boolean(),
  prefer_wait: z.boolean(),
  /** Absent from older servers. */
  cache_modes: z.array(z.string()).optional(),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const StorageAdapter = z.object({
  type: z.string(),
  hardware_address: z.string(),
  display_name: z.string().optional(),
  display_description: z.string().optional(),
  speed: z.string().optional(),
  state: z.string().optional(),
});

/** `GET /v1/dpl_system/` */
export const SystemReply = Envelope.extend({
  metadata: z.object({
    vendor: z.string(),
    version: z.string(),
    server_name: z.string(),
    protocol_version: z.string(),
    storage_adapter: z.record(z.string(), StorageAdapter),
    iscsi_portals: z.array(z.string()),
    capabilities: Capabilities,
  }),
});
export type SystemReply = z.infer<typeof SystemReply>;

/** One block device the server may build pools from (on its --allow-block-device list). */
export const Disk = z.object({
  path: z.string(),
  /** null when the device is not there (unplugged, or not yet created). */
  size_bytes: z.number().int().nonnegative().nullable(),
  model: z.string().nullable(),
  /** true: a spinning disk; null when the kernel does not say. */
  rotational: z.boolean().nullable(),
  /** The pool the device belongs to; null when it is free. */
  pool_uuid: z.string().nullable(),
});
export type Disk = z.infer<typeof Disk>;

/** `GET /v1/dpl_disk/`: children are `[path, path]` pairs, the details are in metadata. */
export const DiskListReply = Envelope.extend({
  children: z.array(z.tuple([z.string(), z.string()])),
  metadata: z.object({ disks: z.array(Disk) }),
});
export type DiskListReply = z.infer<typeof DiskListReply>;
