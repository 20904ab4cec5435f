/**
 * `pulumi import` (through the native provider) reads an object knowing only its id: no state,
 * no declared inputs. The readers then take the inputs from the server, so the imported state
 * holds what a program must declare for its next preview to show no changes.
 */
import type { PropertyBag } from "./hook-types";

/** A read with nothing but the id: an import, not a refresh. */
export function isImport(props: PropertyBag): boolean {
  return Object.keys(props).length === 0;
}

/** How an import id of a kind reads, for the error that names it. */
export interface ImportIdForm {
  /** "a snapshot" */
  what: string;
  /** "volume id" */
  parent: string;
  /** "snapshot id" */
  own: string;
}

/**
 * Snapshots live under their volume (group snapshots under their group), so their import id
 * names both: "<parent id>/<own id>". A refresh passes the own id and the parent from the state.
 */
export function childAddress(id: string, parent: unknown, form: ImportIdForm): { parent: string; id: string } {
  if (typeof parent === "string" && parent !== "") return { parent, id };
  const [first, second, ...rest] = id.split("/");
  if (first === undefined || second === undefined || rest.length > 0 || first === "" || second === "") {
    throw new Error(`import ${form.what} as "<${form.parent}>/<${form.own}>" (it lives under its ${form.parent.replace(/ id$/, "")}), not "${id}"`);
  }
  return { parent: first, id: second };
}

/** The value when it is not the default the input stands for when absent. */
export function unlessDefault<T>(value: T, absentMeans: T): T | undefined {
  return value === absentMeans ? undefined : value;
}

/** The name and description an imported object declares (when it has them), beside its parent. */
export function importedNaming(reply: { objectID: string; metadata: { display_name?: string | null; display_description?: string | null } }, parent: PropertyBag): PropertyBag {
  const name = reply.metadata.display_name ?? "";
  const description = reply.metadata.display_description ?? "";
  return {
    ...parent,
    ...(name !== "" && name !== reply.objectID ? { name } : {}),
    ...(description !== "" ? { description } : {}),
  };
}
