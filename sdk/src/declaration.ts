import * as pulumi from "@pulumi/pulumi";
import { declaredObjectId } from "@prophetstor/dpl-provider";
import type { VolumeArgs } from "./generated";

/** Type tokens are `pulumi-nodejs:dynamic/dpl:<Name>`; the module part is this. */
export const MODULE = "dpl";

/**
 * The DPL id an object declared here gets (project, stack, type, name): a create interrupted after
 * the server made the object finds it again on the retry instead of making a twin.
 */
export function declaredId(typeName: string, name: string): string {
  return declaredObjectId(pulumi.getProject(), pulumi.getStack(), `${MODULE}:${typeName}`, name);
}

/** Everything a DPL resource accepts besides its own arguments (documented on each generated Args). */
export type DplResourceArgs = Pick<VolumeArgs, "adopt" | "operationTimeoutSeconds">;
