/**
 * The inputs every DPL resource (or every one holding a volume's data) has besides its own, each
 * described once: the SDK's arguments and the package schema take their documentation from here.
 */
import { z } from "zod";
import { HexId } from "../wire";
import { OperationTimeoutSeconds } from "./operation-timeout";

/** The seed the SDK derives from the declaration (project, stack, type, name); check() turns it into the DPL id. */
export const ObjectIdInput = HexId.describe("internal: the DPL id seed the SDK derives from where the resource is declared");

export const AdoptInput = HexId.optional().describe(
  "Takes over an existing DPL object with this id instead of creating one. Nothing on the object is changed: "
  + "the create fails if the object does not match the declared inputs. Destroying the resource afterwards deletes "
  + "the object, as for any managed resource (use `retainOnDelete` to keep it).",
);

export const OperationTimeoutInput = OperationTimeoutSeconds.optional().describe(
  "Deadline in seconds of each DPL call this resource's operations make, retries and waits included (default 600). "
  + "Pulumi's `customTimeouts` are ignored by dynamic providers.",
);

export const DeleteDataOnReplaceInput = z.boolean().optional().describe(
  "When a change replaces this volume (the few that cannot be made in place: another image, another clone source), "
  + "the old volume is deleted only if this is true. By default it is kept on the server with its data, out of the "
  + "stack, and the deployment says so (preview already says why it replaces). Removing the resource from the "
  + "program, or `pulumi destroy`, still deletes it: use the `protect` resource option against that.",
);

/** The kinds of object an id input can name. */
export type ReferenceKind = "pool" | "volume" | "snapshot" | "volumeGroup";

/** An id input the SDK accepts as a resource too (a Volume, a Pool, ...): the generated SDK takes the id from it. */
export function reference<T extends z.ZodType>(schema: T, kind: ReferenceKind): T {
  return schema.meta({ reference: kind });
}

/**
 * A nested object the SDK names (its own interface, and a type in the package schema), with the
 * type's own documentation (a `describe` where it is used documents that use).
 */
export function named<T extends z.ZodType>(schema: T, sdkName: string, sdkDescription: string): T {
  return schema.meta({ sdkName, sdkDescription });
}
