/**
 * No source file grows past 500 lines (issue 12): a file that long holds more than one thing.
 * Walks the checkout (not git: the unit lane may run as another user than the checkout's owner).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../..");
const MAX_LINES = 500;
const SOURCE = /\.(ts|mts|go|py)$/;
/** Generated, installed or scratch trees. */
const SKIPPED = new Set(["node_modules", "dist", ".work", ".git", "results", "bin"]);
/** The native provider's SDKs, written by `pulumi package gen-sdk` (scripts/generate-native-sdks.sh). */
const GENERATED = new Set(["sdk/go", "sdk/python", "sdk/nodejs"].map((dir) => join(ROOT, dir)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (SKIPPED.has(entry.name) || GENERATED.has(path)) return [];
    if (entry.isDirectory()) return sourceFiles(path);
    return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

describe("source files", () => {
  it(`are at most ${MAX_LINES} lines each`, () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(100);
    const tooLong = files
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(tooLong).toEqual([]);
  });
});
