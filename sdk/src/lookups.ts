import * as pulumi from "@pulumi/pulumi";
import {
  lookupDisks, lookupPool, lookupServerInfo, lookupVolume, rememberProviderConfig,
  type DiskLookup, type PoolLookup, type ServerInfoLookup, type VolumeLookup,
} from "@prophetstor/dpl-provider";

export type { DiskLookup, PoolLookup, ServerInfoLookup, VolumeLookup };

/** Which object to read: by id, or by display name (which must be unique). */
export interface LookupArgs {
  id?: string;
  name?: string;
}

/** The program's own `dpl:*` config (read without secret warnings), else the DPL_* environment. */
function useProgramConfig(): void {
  rememberProviderConfig({ get: (key) => pulumi.runtime.getConfig(key) });
}

/**
 * Reads an existing pool (read-only): by id, by name, or — with neither — the server's first
 * pool (e.g. the embedded default pool of a fresh DPL server). Pass the result as a Volume's `pool`.
 */
export async function getPool(args: LookupArgs = {}): Promise<PoolLookup> {
  useProgramConfig();
  return lookupPool(args);
}

/** Reads an existing volume (read-only) by id or by name; pass it as a `volume`/`sourceVolume`. */
export async function getVolume(args: LookupArgs): Promise<VolumeLookup> {
  useProgramConfig();
  return lookupVolume(args);
}

/**
 * The block devices the server may build pools from (its --allow-block-device list), with size,
 * model, whether they spin, and the pool holding each; `unusedOnly` keeps the free ones. Pass a
 * path as a Pool device (`{ type: "block_device", path }`).
 */
export async function getDisks(args: { unusedOnly?: boolean } = {}): Promise<DiskLookup[]> {
  useProgramConfig();
  return lookupDisks(args);
}

/** What the DPL server is and can do: name, version, iSCSI portals, RAID levels, compression, cache modes, FC. */
export async function getServerInfo(): Promise<ServerInfoLookup> {
  useProgramConfig();
  return lookupServerInfo();
}
