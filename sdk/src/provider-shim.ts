/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-argument --
   the serialized shim must `require` the provider by name when it runs (an import would be
   captured into the state), and Pulumi types the hook arguments as any. */
import type * as pulumi from "@pulumi/pulumi";

type ProviderPackage = typeof import("@prophetstor/dpl-provider");

/**
 * The dynamic provider Pulumi serializes into every resource's state. It must stay tiny and
 * hold nothing but the resource kind: each function `require`s the provider package by name when
 * it runs (in the dynamic-provider host, resolved from the program's node_modules), so the state
 * carries no client code and no credentials (pulumi#8265), and a fixed provider package takes
 * effect for resources already deployed (delete and refresh run the copy in the state, #16826).
 *
 * Keep the bodies free of imports and module-level references: the closure serializer would
 * capture them. `require` itself is never captured.
 */
export function providerShim(kind: string): pulumi.dynamic.ResourceProvider {
  return {
    configure: (req) => (require("@prophetstor/dpl-provider") as ProviderPackage).configureProvider(req.config),
    check: (olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).check(olds, news),
    diff: (id, olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).diff(id, olds, news),
    create: (inputs) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).create(inputs),
    read: (id, props) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).read(id, props ?? {}),
    update: (id, olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).update(id, olds, news),
    delete: (id, props) => (require("@prophetstor/dpl-provider") as ProviderPackage).resourceHooks(kind).delete(id, props),
  };
}

// One shim object per kind: Pulumi caches serializations per object, and the host caches the
// deserialized provider per serialized text, so every resource of a kind shares both.
const shims = new Map<string, pulumi.dynamic.ResourceProvider>();

export function sharedProviderShim(kind: string): pulumi.dynamic.ResourceProvider {
  let shim = shims.get(kind);
  if (shim === undefined) {
    shim = providerShim(kind);
    shims.set(kind, shim);
  }
  return shim;
}
