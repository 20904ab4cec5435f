/**
 * Where the tests find tools that scripts/setup-system.sh installs outside Debian's paths (the
 * schemathesis venv). A missing tool is an error naming it and the script that installs it, so a
 * test can never pass, or fail obscurely, because a tool is absent.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The directory setup-system.sh links such tools into. */
export const toolsBinDir = join(process.env.DPL_TOOLS_DIR ?? "/var/cache/dpl-tools", "bin");

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `name`, from the tools dir first, then PATH. */
export function installedTool(name: string): string {
  const dirs = [toolsBinDir, ...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== "")];
  const found = dirs.map((dir) => join(dir, name)).find(isExecutable);
  if (found === undefined) throw new Error(`${name} is not installed (looked in ${dirs.join(", ")}): run scripts/setup-system.sh`);
  return found;
}
