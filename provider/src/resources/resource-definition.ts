/**
 * One declaration per resource kind: its inputs (zod, with a description on every field), its
 * outputs, what each input's change does (in place or replace, and why), its secrets and its
 * server operations. The provider's hooks are built from it by `hooksFor`; the SDK's TypeScript
 * and the package schema are generated from it (tools/codegen), so a property is written once.
 */
import type { z } from "zod";
import type { CheckFailure, CreateResult, DiffResult, InputChangeSeen, PropertyBag, ReadResult, ResourceHooks, UpdateResult } from "./hook-types";
import { differs, validateInputs, withInputs } from "./input-validation";
import { settleObjectId } from "./object-ids";
import { noteReplacement } from "./replacement-guard";

/** What a change of one input does to the object. */
export interface InputChange {
  effect: InputChangeSeen["effect"];
  /** In a user's words: why a replacement cannot be avoided, or what the in-place update does. */
  why: string;
  /** True when the input changed; by default a deep comparison (a value still unknown counts as changed). */
  changed?: (olds: PropertyBag, news: PropertyBag) => boolean;
  /** The value an absent input stands for (compared as that value). */
  absentMeans?: unknown;
}

/** Changed in place, keeping the object's id and data. */
export function inPlace(why: string, options: Omit<InputChange, "effect" | "why"> = {}): InputChange {
  return { effect: "update", why, ...options };
}

/** Only a new object can take this change. */
export function replacing(why: string, options: Omit<InputChange, "effect" | "why"> = {}): InputChange {
  return { effect: "replace", why, ...options };
}

export interface ResourceDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  /** The `dplKind` the SDK sends and the registry dispatches on. */
  kind: string;
  /** The type name in the SDK and in `dpl:index:<typeName>`. */
  typeName: string;
  description: string;
  /** Every input, each described; the SDK's arguments and the schema's input properties come from it. */
  inputs: z.ZodObject<Shape>;
  /** The inputs with their cross-field rules (refinements), when there are any. */
  validation?: z.ZodType;
  /** Every output the server decides, each described. */
  outputs: z.ZodObject;
  /** Inputs whose change reaches the object; an input not named here rides along in the state. */
  changes: Partial<Record<keyof Shape & string, InputChange>>;
  /** Outputs an in-place update never changes. */
  stables: readonly string[];
  /** The old object must go before its replacement is made (it holds something the new one needs). */
  deleteBeforeReplace?: boolean;
  /** A volume's data lives in it: a planned replacement keeps the old one unless the program opts in. */
  holdsData?: boolean;
  /** Inputs kept as Pulumi secrets. */
  secrets?: readonly (keyof Shape & string)[];
  /** Checks beyond the schema (sizes that may only grow, server-side lists); `parsed` when the schema accepted the inputs. */
  extraCheck?: (olds: PropertyBag, news: PropertyBag, parsed: unknown) => CheckFailure[] | Promise<CheckFailure[]>;
  create(inputs: PropertyBag): Promise<CreateResult>;
  read(id: string, props: PropertyBag): Promise<ReadResult> | ReadResult;
  /** Absent: only the state changes (every in-place input lives in the state alone). */
  update?(id: string, olds: PropertyBag, news: PropertyBag): Promise<UpdateResult>;
  delete(id: string, props: PropertyBag): Promise<void>;
}

/**
 * Declares a kind: the input names are checked against the inputs here, where the shape is
 * known; the registry, the hook factory and the generators see every kind the same way.
 */
export function defineResource<Shape extends z.ZodRawShape>(definition: ResourceDefinition<Shape>): ResourceDefinition {
  return definition as unknown as ResourceDefinition;
}

/** The input names of a definition (what create and read carry along into the outputs). */
export function inputKeysOf(definition: Pick<ResourceDefinition, "inputs">): string[] {
  return Object.keys(definition.inputs.shape);
}

/** Every input that changed between the state and the new inputs, with its rule's effect and why. */
export function inputChanges(definition: ResourceDefinition, olds: PropertyBag, news: PropertyBag): InputChangeSeen[] {
  const seen: InputChangeSeen[] = [];
  for (const [key, rule] of Object.entries(definition.changes) as [string, InputChange][]) {
    const normalize = rule.absentMeans === undefined ? undefined : (v: unknown): unknown => v ?? rule.absentMeans;
    if (rule.changed !== undefined ? rule.changed(olds, news) : differs(olds, news, key, normalize)) {
      seen.push({ key, effect: rule.effect, why: rule.why, presence: presenceChange(olds[key], news[key]) });
    }
  }
  return seen;
}

function presenceChange(old: unknown, next: unknown): InputChangeSeen["presence"] {
  if (old === undefined) return "added";
  return next === undefined ? "removed" : "changed";
}

/** The inputs whose change has this effect and that changed between the state and the new inputs. */
export function changedInputs(definition: ResourceDefinition, effect: InputChange["effect"], olds: PropertyBag, news: PropertyBag): string[] {
  return inputChanges(definition, olds, news).filter((change) => change.effect === effect).map((change) => change.key);
}

/** The inputs whose change replaces the object (they also seed its DPL id). */
export function replacingInputs(definition: ResourceDefinition): string[] {
  return Object.entries(definition.changes).filter(([, rule]) => rule?.effect === "replace").map(([key]) => key);
}

/**
 * The dynamic-provider hooks of a kind. check settles the object's DPL id (kinds that have an
 * `objectId` input) and validates; diff compares by the change rules; update without an
 * operation of its own only rewrites the state.
 */
export function hooksFor(definition: ResourceDefinition): ResourceHooks {
  const inputKeys = inputKeysOf(definition);
  const declaresId = inputKeys.includes("objectId");
  const triggers = replacingInputs(definition);
  return {
    async check(olds, news) {
      const replaced = changedInputs(definition, "replace", olds, news).length > 0;
      const inputs = declaresId ? { ...news, objectId: settleObjectId(olds, news, triggers, replaced) } : news;
      const validation = validateInputs(definition.validation ?? definition.inputs, inputs);
      const failures = validation.ok ? [] : validation.failures;
      if (definition.extraCheck !== undefined) failures.push(...await definition.extraCheck(olds, news, validation.ok ? validation.value : undefined));
      return failures.length > 0 ? { inputs, failures } : { inputs };
    },
    diff(id, olds, news): Promise<DiffResult> {
      const changes = inputChanges(definition, olds, news);
      const replacing = changes.filter((change) => change.effect === "replace");
      const replaces = replacing.map((change) => change.key);
      if (definition.holdsData === true) noteReplacement(definition.typeName, id, replacing, olds, news);
      return Promise.resolve({
        changes: changes.length > 0,
        inputChanges: changes,
        replaces,
        stables: replaces.length > 0 ? [] : [...definition.stables],
        deleteBeforeReplace: definition.deleteBeforeReplace ?? false,
      });
    },
    create: (inputs) => definition.create(inputs),
    read: (id, props) => Promise.resolve(definition.read(id, props)),
    update: (id, olds, news) => definition.update?.(id, olds, news) ?? Promise.resolve({ outs: withInputs(olds, news, inputKeys) }),
    delete: (id, props) => definition.delete(id, props),
  };
}
