/**
 * @prophetstor/dpl-provider: the dynamic-provider hooks of the DPL resources. The SDK's
 * serialized shim `require`s this package by name at run time and calls `dispatchingHooks` (older
 * states: `resourceHooks(kind)`);
 * the wire contract and the client are the subpath exports "./wire" and "./client".
 */
export { RESOURCE_DEFINITIONS, RESOURCE_HOOKS, resourceHooks, dispatchingHooks, configureProvider, KIND_PROPERTY, type ResourceKind } from "./resources/registry";
export type { ResourceDefinition } from "./resources/resource-definition";
export type { ResourceInputs } from "./resources/resource-inputs";
export type { ResourceHooks, PropertyBag, CheckResult, CheckFailure, DiffResult, InputChangeSeen, CreateResult, ReadResult, UpdateResult, ConfigSource } from "./resources/hook-types";
export { declaredObjectId, derivedObjectId } from "./resources/object-ids";
export {
  lookupDisks, lookupPool, lookupServerInfo, lookupVolume,
  type DiskLookup, type LookupQuery, type PoolLookup, type ServerInfoLookup, type VolumeLookup,
} from "./resources/lookups";
export { rememberProviderConfig, connectionEnvironment, CONFIG_TO_ENVIRONMENT, ProviderConfig, SECRET_CONFIG_KEYS } from "./config/connection-settings";
export { UNKNOWN_VALUE } from "./resources/input-validation";
