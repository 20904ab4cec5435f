/**
 * One PoolEngine and one VolumeEngine for core, whatever backend each pool has: every call that
 * names a pool (its first argument) goes to that pool's backend. Core's refusals
 * (core/backend-features.ts) keep btrfs-only requests away from rbd pools, so the few calls that
 * name no pool (hostSpace) or name a copy's source by object (copyAcrossPools) are btrfs's.
 */
import type { PoolBackendKind, PoolEngine, VolumeEngine } from "../core/ports";

/** Which backend a pool has; unknown pools are btrfs's (the only backend before rbd). */
export type BackendOf = (poolId: string) => PoolBackendKind;

function routed<Engine extends object>(engines: Record<PoolBackendKind, Engine>, backendOf: BackendOf): Engine {
  // A Proxy rather than one hand-written forwarder per method: PoolEngine and VolumeEngine have
  // some fifty methods, and a forwarder missed when a method is added would go to btrfs silently.
  return new Proxy(engines.btrfs, {
    get(btrfs, key) {
      // Only methods are routed: anything else (`then` when the engine is awaited, a symbol) is btrfs's own.
      const own: unknown = Reflect.get(btrfs, key);
      if (typeof own !== "function") return own;
      return (...args: unknown[]): unknown => {
        const poolId = args[0];
        const engine = typeof poolId === "string" ? engines[backendOf(poolId)] : engines.btrfs;
        const method: unknown = Reflect.get(engine, key);
        if (typeof method !== "function") throw new TypeError(`${String(key)} is not an engine method`);
        return Reflect.apply(method, engine, args);
      };
    },
  });
}

export function routePoolEngine(engines: Record<PoolBackendKind, PoolEngine>, backendOf: BackendOf): PoolEngine {
  return routed(engines, backendOf);
}

export function routeVolumeEngine(engines: Record<PoolBackendKind, VolumeEngine>, backendOf: BackendOf): VolumeEngine {
  return routed(engines, backendOf);
}
