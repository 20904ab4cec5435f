import * as pulumi from "@pulumi/pulumi";
import { declaredObjectId } from "@prophetstor/dpl-provider";

/** Type tokens are `pulumi-nodejs:dynamic/dpl:<Name>`; the module part is this. */
export const MODULE = "dpl";

/**
 * The DPL id an object declared here gets (project, stack, type, name): a create interrupted after
 * the server made the object finds it again on the retry instead of making a twin.
 */
export function declaredId(typeName: string, name: string): string {
  return declaredObjectId(pulumi.getProject(), pulumi.getStack(), `${MODULE}:${typeName}`, name);
}

/** Everything a DPL resource accepts besides its own arguments. */
export interface DplResourceArgs {
  /**
   * Takes over an existing DPL object with this id instead of creating one (`pulumi import` does
   * not work for dynamic providers, pulumi#16175). Nothing on the object is changed: the create
   * fails if the object does not match the declared inputs. Destroying the resource afterwards
   * deletes the object, as for any managed resource (use `retainOnDelete` to keep it).
   */
  adopt?: pulumi.Input<string>;
  /**
   * Deadline in seconds of each DPL call this resource's operations make, retries and waits
   * included (default 600). Pulumi's `customTimeouts` are ignored by dynamic providers.
   */
  operationTimeoutSeconds?: pulumi.Input<number>;
}

/** What every resource whose object is a volume (and so holds data) accepts besides DplResourceArgs. */
export interface DataVolumeArgs extends DplResourceArgs {
  /**
   * When a change replaces this volume (the few that cannot be made in place: another image,
   * another clone source), the old volume is deleted only if this is true. By default it is kept
   * on the server with its data, out of the stack, and the deployment says so (preview already
   * says why it replaces). Removing the resource from the program, or `pulumi destroy`, still
   * deletes it: use the `protect` resource option against that.
   */
  deleteDataOnReplace?: pulumi.Input<boolean>;
}
