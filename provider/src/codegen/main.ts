/**
 * `npm run generate`: writes the SDK's generated sources and the package schema from the
 * resource definitions; `--check` only says which files are stale (exit 1).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command } from "commander";
import { generatedFiles } from "./generated-files";
import { SDK_GENERATED_DIR } from "./sdk-typescript";

function currentText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function run(root: string, check: boolean): number {
  const files = generatedFiles(root);
  const stale = files.filter((file) => currentText(join(root, file.path)) !== file.text).map((file) => file.path);
  const wanted = new Set(files.map((file) => file.path));
  const leftover = readdirSync(join(root, SDK_GENERATED_DIR), { withFileTypes: true })
    .map((entry) => `${SDK_GENERATED_DIR}/${entry.name}`)
    .filter((path) => !wanted.has(path));
  if (check) {
    for (const path of [...stale, ...leftover]) process.stderr.write(`stale: ${path}\n`);
    return stale.length + leftover.length === 0 ? 0 : 1;
  }
  for (const file of files.filter((f) => stale.includes(f.path))) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.text);
    process.stdout.write(`wrote ${file.path}\n`);
  }
  for (const path of leftover) {
    rmSync(join(root, path));
    process.stdout.write(`removed ${path}\n`);
  }
  return 0;
}

const program = new Command("generate")
  .description("write the SDK sources and schema.json generated from the resource definitions")
  .option("--check", "only report stale files (exit 1 when any)")
  .option("--root <dir>", "repository root", resolve(__dirname, "..", "..", ".."));
program.parse();
const options = program.opts<{ check?: boolean; root: string }>();
mkdirSync(join(options.root, SDK_GENERATED_DIR), { recursive: true });
process.exitCode = run(options.root, options.check === true);
