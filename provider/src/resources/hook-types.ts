/**
 * The shapes of Pulumi's dynamic-provider hooks (pulumi.dynamic.ResourceProvider), restated here
 * so the provider package does not depend on @pulumi/pulumi: the SDK's serialized shim hands the
 * host's plain JSON straight to these hooks and returns their results unchanged.
 */

/** Property bags as the dynamic-provider host passes them: plain JSON, secrets already unwrapped. */
export type PropertyBag = Record<string, unknown>;

export interface CheckFailure {
  /** Property path, e.g. "sizeGib" or "initiators[1]". */
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs?: PropertyBag;
  failures?: CheckFailure[];
}

/** One input that changed, as diff saw it. */
export interface InputChangeSeen {
  key: string;
  effect: "update" | "replace";
  /** The definition's words: what the update does, or why only a new object can take it. */
  why: string;
  presence: "added" | "removed" | "changed";
}

export interface DiffResult {
  changes?: boolean;
  /** Each changed input with its effect and why; the dynamic-provider host ignores it, the native provider reports it by property. */
  inputChanges?: InputChangeSeen[];
  replaces?: string[];
  stables?: string[];
  deleteBeforeReplace?: boolean;
}

export interface CreateResult {
  id: string;
  outs?: PropertyBag;
}

export interface ReadResult {
  /** "" when the object is gone: Pulumi then drops it from the state. */
  id?: string;
  props?: PropertyBag;
  inputs?: PropertyBag;
}

export interface UpdateResult {
  outs?: PropertyBag;
}

/** Config as the host's configure() hands it over (`ns:key` lookups). */
export interface ConfigSource {
  get(key: string): string | undefined;
}

export interface ResourceHooks {
  check(olds: PropertyBag, news: PropertyBag): Promise<CheckResult>;
  diff(id: string, olds: PropertyBag, news: PropertyBag): Promise<DiffResult>;
  create(inputs: PropertyBag): Promise<CreateResult>;
  read(id: string, props: PropertyBag): Promise<ReadResult>;
  update(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult>;
  delete(id: string, props: PropertyBag): Promise<void>;
}
