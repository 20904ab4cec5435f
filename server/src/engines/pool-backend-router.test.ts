/**
 * The router sends each call to the engine of the pool it names, and a call naming no pool to
 * btrfs's; what is not a method (a `then` looked up when the engine is awaited) stays btrfs's own.
 */
import { describe, expect, it } from "vitest";
import type { PoolBackendKind, VolumeEngine } from "../core/ports";
import { routeVolumeEngine } from "./pool-backend-router";

function recordingEngine(name: PoolBackendKind, calls: string[]): VolumeEngine {
  const engine = {
    createVolume: (poolId: string) => {
      calls.push(`${name}:createVolume:${poolId}`);
      return Promise.resolve();
    },
    copyAcrossPools: () => {
      calls.push(`${name}:copyAcrossPools`);
      return Promise.resolve();
    },
  };
  return engine as unknown as VolumeEngine;
}

describe("routeVolumeEngine", () => {
  it("routes by the pool a call names, and calls naming no pool to btrfs", async () => {
    const calls: string[] = [];
    const backends: Record<string, PoolBackendKind> = { fast: "btrfs", ceph: "rbd" };
    const engine = routeVolumeEngine(
      { btrfs: recordingEngine("btrfs", calls), rbd: recordingEngine("rbd", calls) },
      (poolId) => backends[poolId] ?? "btrfs",
    );
    await engine.createVolume("ceph", "v1", 1, true, "none");
    await engine.createVolume("fast", "v2", 1, true, "none");
    await engine.copyAcrossPools({ poolId: "ceph", path: "/x" }, "fast", "v3");
    expect(calls).toEqual(["rbd:createVolume:ceph", "btrfs:createVolume:fast", "btrfs:copyAcrossPools"]);
  });

  it("is not a thenable, and names a method the chosen engine lacks", async () => {
    const engine = routeVolumeEngine({ btrfs: recordingEngine("btrfs", []), rbd: {} as VolumeEngine }, () => "rbd");
    expect(await Promise.resolve(engine)).toBe(engine);
    await expect(async () => engine.createVolume("ceph", "v", 1, true, "none")).rejects.toThrow(/createVolume is not an engine method/);
  });
});
