/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-argument --
   the serialized shim must `require` the provider by name when it runs (an import would be
   captured into the state), and Pulumi types the hook arguments as any. */
import type * as pulumi from "@pulumi/pulumi";

type ProviderPackage = typeof import("@prophetstor/dpl-provider");

/**
 * The one dynamic provider Pulumi serializes into the state of every DPL resource. It must stay
 * tiny and hold nothing: each function `require`s the provider package by name when it runs (in
 * the dynamic-provider host, resolved from the program's node_modules), so the state carries no
 * client code and no credentials (pulumi#8265), and a fixed provider package takes effect for
 * resources already deployed (delete and refresh run the copy in the state, #16826). The kind of
 * each resource travels as its `dplKind` input; the provider dispatches on it.
 *
 * One object for every kind: Pulumi serializes it once per deployment, and the host deserializes
 * and configures it once (a shim per kind cost a serialization and a configure per kind).
 *
 * Keep the bodies free of imports and module-level references: the closure serializer would
 * capture them. `require` itself is never captured.
 */
export const dplProvider: pulumi.dynamic.ResourceProvider = {
  configure: (req) => (require("@prophetstor/dpl-provider") as ProviderPackage).configureProvider(req.config),
  check: (olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.check(olds, news),
  diff: (id, olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.diff(id, olds, news),
  create: (inputs) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.create(inputs),
  read: (id, props) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.read(id, props ?? {}),
  update: (id, olds, news) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.update(id, olds, news),
  delete: (id, props) => (require("@prophetstor/dpl-provider") as ProviderPackage).dispatchingHooks.delete(id, props),
};
