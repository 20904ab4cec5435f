import { rememberProviderConfig } from "../config/connection-settings";
import { cloneHooks } from "./clone";
import { fcExportHooks } from "./fc-export";
import { groupSnapshotHooks } from "./group-snapshot";
import { imageExportHooks } from "./image-export";
import type { ConfigSource, ResourceHooks } from "./hook-types";
import { iscsiExportHooks } from "./iscsi-export";
import { poolHooks } from "./pool";
import { rollbackHooks } from "./rollback";
import { snapshotHooks } from "./snapshot";
import { volumeHooks } from "./volume";
import { volumeGroupHooks } from "./volume-group";
import { volumeFromImageHooks } from "./volume-from-image";

/** Every resource kind the SDK's serialized shims name, with its hooks. */
export const RESOURCE_HOOKS = {
  pool: poolHooks,
  volume: volumeHooks,
  snapshot: snapshotHooks,
  clone: cloneHooks,
  iscsiExport: iscsiExportHooks,
  fcExport: fcExportHooks,
  rollback: rollbackHooks,
  volumeGroup: volumeGroupHooks,
  groupSnapshot: groupSnapshotHooks,
  volumeFromImage: volumeFromImageHooks,
  imageExport: imageExportHooks,
} as const satisfies Record<string, ResourceHooks>;

export type ResourceKind = keyof typeof RESOURCE_HOOKS;

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
