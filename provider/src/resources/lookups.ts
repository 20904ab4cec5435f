import { withClient } from "../config/open-client";
import type { PoolReply, VolumeReply } from "../wire";

export interface LookupQuery {
  /** The object's DPL id (32 hex). */
  id?: string | undefined;
  /** Its display name; must match exactly one object. */
  name?: string | undefined;
}

function chooseId(kind: string, query: LookupQuery, listed: { id: string; name: string }[]): string {
  if (query.id !== undefined) return query.id;
  if (query.name === undefined) {
    const first = listed[0];
    if (first === undefined) throw new Error(`the DPL server has no ${kind}`);
    return first.id;
  }
  const matches = listed.filter((item) => item.name === query.name);
  const match = matches[0];
  if (match === undefined) throw new Error(`no DPL ${kind} is named "${query.name}" (found: ${listed.map((i) => i.name).join(", ") || "none"})`);
  if (matches.length > 1) throw new Error(`${matches.length} DPL ${kind}s are named "${query.name}"; look it up by id`);
  return match.id;
}

export interface PoolLookup {
  poolId: string;
  name: string;
  description: string;
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  provisionedBytes: number;
  state: string;
  raidLevel: string;
  compression: string;
}

export interface VolumeLookup {
  volumeId: string;
  name: string;
  description: string;
  poolId: string;
  sizeBytes: number;
  usedBytes: number;
  thin: boolean;
  state: string;
}

function poolLookup(reply: PoolReply): PoolLookup {
  const m = reply.metadata;
  return {
    poolId: m.pool_uuid,
    name: m.display_name,
    description: m.display_description ?? "",
    totalBytes: m.total_capacity,
    usedBytes: m.used_capacity,
    freeBytes: m.available_capacity,
    provisionedBytes: m.provisioned_capacity,
    state: m.state,
    raidLevel: m.properties.raid_level,
    compression: m.properties.compression,
  };
}

function volumeLookup(reply: VolumeReply): VolumeLookup {
  const m = reply.metadata;
  return {
    volumeId: reply.objectID,
    name: m.display_name,
    description: m.display_description ?? "",
    poolId: m.pool_uuid,
    sizeBytes: m.total_capacity,
    usedBytes: m.used_capacity,
    thin: m.properties.thin_provision,
    state: m.state,
  };
}

export interface DiskLookup {
  path: string;
  /** undefined when no device is at the path now. */
  sizeBytes?: number | undefined;
  model?: string | undefined;
  rotational?: boolean | undefined;
  /** The pool holding the device; undefined when it is free. */
  poolId?: string | undefined;
}

export interface ServerInfoLookup {
  serverName: string;
  vendor: string;
  version: string;
  /** Where initiators reach exports ("host:port"). */
  iscsiPortals: string[];
  protocols: string[];
  raidLevels: string[];
  compression: string[];
  cacheModes: string[];
  /** false: this server has no Fibre Channel target engine. */
  fibreChannel: boolean;
  scrub: boolean;
  dedupe: boolean;
}

/** The block devices pools may be built from; `unusedOnly` leaves out those a pool holds. */
export async function lookupDisks(options: { unusedOnly?: boolean | undefined } = {}): Promise<DiskLookup[]> {
  return withClient(undefined, async (client) => (await client.listDisks())
    .filter((disk) => options.unusedOnly !== true || disk.pool_uuid === null)
    .map((disk) => ({
      path: disk.path,
      sizeBytes: disk.size_bytes ?? undefined,
      model: disk.model ?? undefined,
      rotational: disk.rotational ?? undefined,
      poolId: disk.pool_uuid ?? undefined,
    })));
}

/** What the server is and can do: name, version, portals, RAID levels, compression, cache modes. */
export async function lookupServerInfo(): Promise<ServerInfoLookup> {
  return withClient(undefined, async (client) => {
    const m = (await client.system()).metadata;
    const c = m.capabilities;
    return {
      serverName: m.server_name, vendor: m.vendor, version: m.version, iscsiPortals: m.iscsi_portals,
      protocols: c.protocols, raidLevels: c.raid_levels, compression: c.compression, cacheModes: c.cache_modes ?? [],
      fibreChannel: c.protocols.includes("fc"), scrub: c.scrub, dedupe: c.dedupe,
    };
  });
}

/** Reads a pool by id, by name, or (neither given) the server's first pool. */
export async function lookupPool(query: LookupQuery): Promise<PoolLookup> {
  return withClient(undefined, async (client) => {
    const id = chooseId("pool", query, query.id === undefined ? await client.listPools() : []);
    const reply = await client.getPool(id);
    if (reply === undefined) throw new Error(`the DPL server has no pool ${id}`);
    return poolLookup(reply);
  });
}

/** Reads a volume by id or by name. */
export async function lookupVolume(query: LookupQuery): Promise<VolumeLookup> {
  if (query.id === undefined && query.name === undefined) throw new Error("getVolume needs an id or a name");
  return withClient(undefined, async (client) => {
    const id = chooseId("volume", query, query.id === undefined ? await client.listVolumes() : []);
    const reply = await client.getVolume(id);
    if (reply === undefined) throw new Error(`the DPL server has no volume ${id}`);
    return volumeLookup(reply);
  });
}
