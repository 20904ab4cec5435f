/**
 * The generated SDK's argument types against the provider's inputs, kind by kind, at compile time (the
 * test's body is type assertions; `tsc --noEmit` in CI is what fails on a drift): every input
 * the provider checks is an argument here, and every argument reaches the provider. `objectId`
 * is the SDK's own (it derives it); where an SDK argument takes a richer value (a Pool for a pool
 * id) the name is still the provider's.
 */
import type { ResourceInputs } from "@prophetstor/dpl-provider";
import { describe, expectTypeOf, it } from "vitest";
import type {
  CloneArgs, FCExportArgs, GroupSnapshotArgs, ISCSIExportArgs, ImageExportArgs, PoolArgs, RollbackArgs, SnapshotArgs, VolumeArgs, VolumeFromImageArgs, VolumeGroupArgs,
} from "./generated";

type ProviderKeys<K extends keyof ResourceInputs> = Exclude<keyof ResourceInputs[K], "objectId">;

describe("SDK arguments", () => {
  it("name exactly the provider's inputs, for every kind", () => {
    expectTypeOf<keyof PoolArgs>().toEqualTypeOf<ProviderKeys<"pool">>();
    expectTypeOf<keyof VolumeArgs>().toEqualTypeOf<ProviderKeys<"volume">>();
    expectTypeOf<keyof SnapshotArgs>().toEqualTypeOf<ProviderKeys<"snapshot">>();
    expectTypeOf<keyof CloneArgs>().toEqualTypeOf<ProviderKeys<"clone">>();
    expectTypeOf<keyof ISCSIExportArgs>().toEqualTypeOf<ProviderKeys<"iscsiExport">>();
    expectTypeOf<keyof FCExportArgs>().toEqualTypeOf<ProviderKeys<"fcExport">>();
    expectTypeOf<keyof RollbackArgs>().toEqualTypeOf<ProviderKeys<"rollback">>();
    expectTypeOf<keyof VolumeGroupArgs>().toEqualTypeOf<ProviderKeys<"volumeGroup">>();
    expectTypeOf<keyof GroupSnapshotArgs>().toEqualTypeOf<ProviderKeys<"groupSnapshot">>();
    expectTypeOf<keyof VolumeFromImageArgs>().toEqualTypeOf<ProviderKeys<"volumeFromImage">>();
    expectTypeOf<keyof ImageExportArgs>().toEqualTypeOf<ProviderKeys<"imageExport">>();
  });
});
