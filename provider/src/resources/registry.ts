import { rememberProviderConfig } from "../config/connection-settings";
import { cloneDefinition } from "./clone";
import { failoverDefinition } from "./failover";
import { fcExportDefinition } from "./fc-export";
import { groupSnapshotDefinition } from "./group-snapshot";
import { imageExportDefinition } from "./image-export";
import type { ConfigSource, PropertyBag, ResourceHooks } from "./hook-types";
import { iscsiExportDefinition } from "./iscsi-export";
import { poolDefinition } from "./pool";
import { replicationDefinition } from "./replication";
import { hooksFor, type ResourceDefinition } from "./resource-definition";
import { rollbackDefinition } from "./rollback";
import { snapshotDefinition } from "./snapshot";
import { volumeDefinition } from "./volume";
import { volumeGroupDefinition } from "./volume-group";
import { volumeFromImageDefinition } from "./volume-from-image";

/** Every resource kind, by the `dplKind` the SDK sends: the SDK, the schema and the hooks come from these. */
export const RESOURCE_DEFINITIONS = {
  pool: poolDefinition,
  volume: volumeDefinition,
  snapshot: snapshotDefinition,
  clone: cloneDefinition,
  iscsiExport: iscsiExportDefinition,
  fcExport: fcExportDefinition,
  rollback: rollbackDefinition,
  volumeGroup: volumeGroupDefinition,
  groupSnapshot: groupSnapshotDefinition,
  volumeFromImage: volumeFromImageDefinition,
  imageExport: imageExportDefinition,
  replication: replicationDefinition,
  failover: failoverDefinition,
} as const satisfies Record<string, ResourceDefinition>;

export type ResourceKind = keyof typeof RESOURCE_DEFINITIONS;

/** Every kind's hooks, built from its definition. */
export const RESOURCE_HOOKS = Object.fromEntries(
  Object.entries(RESOURCE_DEFINITIONS).map(([kind, definition]) => [kind, hooksFor(definition)]),
) as Record<ResourceKind, ResourceHooks>;

/** The hooks of one kind; the kind comes from state written by some SDK version, so it is checked. */
export function resourceHooks(kind: string): ResourceHooks {
  if (!Object.hasOwn(RESOURCE_HOOKS, kind)) {
    throw new Error(`@prophetstor/dpl-provider has no resource kind "${kind}" (known: ${Object.keys(RESOURCE_HOOKS).join(", ")}); is the installed provider older than the SDK that wrote this state?`);
  }
  return RESOURCE_HOOKS[kind as ResourceKind];
}

/** The dynamic-provider host's configure(): the stack config (dpl:* keys) for every later hook call. */
export function configureProvider(config: ConfigSource): Promise<void> {
  rememberProviderConfig(config);
  return Promise.resolve();
}

/** The input every resource of the SDK's one shared shim carries: which kind's hooks serve it. */
export const KIND_PROPERTY = "dplKind";

function kindIn(bags: readonly PropertyBag[]): string {
  for (const bag of bags) {
    const kind = bag[KIND_PROPERTY];
    if (typeof kind === "string") return kind;
  }
  throw new Error(`@prophetstor/dpl-provider: the resource has no ${KIND_PROPERTY} property; was it declared with an SDK older than this provider?`);
}

const withKind = (bag: PropertyBag | undefined, kind: string): PropertyBag => ({ ...bag, [KIND_PROPERTY]: kind });

/**
 * The hooks of the SDK's single shim, for every kind: each call finds the kind in its property
 * bags and hands them to that kind's hooks, and what it returns keeps the kind (refresh and
 * delete see only the state). One shim for all kinds means Pulumi serializes one provider and
 * the host deserializes and configures it once per deployment.
 */
export const dispatchingHooks: ResourceHooks = {
  async check(olds, news) {
    const kind = kindIn([news, olds]);
    const result = await resourceHooks(kind).check(olds, news);
    return { ...result, inputs: withKind(result.inputs ?? news, kind) };
  },
  diff: (id, olds, news) => resourceHooks(kindIn([news, olds])).diff(id, olds, news),
  async create(inputs) {
    const kind = kindIn([inputs]);
    const result = await resourceHooks(kind).create(inputs);
    return { ...result, outs: withKind(result.outs, kind) };
  },
  async read(id, props) {
    const kind = kindIn([props]);
    const result = await resourceHooks(kind).read(id, props);
    if (result.id === "" || result.id === undefined) return result;
    return { ...result, props: withKind(result.props, kind), ...(result.inputs === undefined ? {} : { inputs: withKind(result.inputs, kind) }) };
  },
  async update(id, olds, news) {
    const kind = kindIn([news, olds]);
    const result = await resourceHooks(kind).update(id, olds, news);
    return { ...result, outs: withKind(result.outs, kind) };
  },
  delete: (id, props) => resourceHooks(kindIn([props])).delete(id, props),
};
