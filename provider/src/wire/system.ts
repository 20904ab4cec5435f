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
