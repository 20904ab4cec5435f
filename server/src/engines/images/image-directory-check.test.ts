import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkImageDirectory } from "./image-directory-check";

const root = mkdtempSync(join(tmpdir(), "image-dir-check-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("checkImageDirectory", () => {
  it("accepts a directory only its owner can write", () => {
    const own = join(root, "own");
    mkdirSync(own, { mode: 0o755 });
    chmodSync(own, 0o755);
    expect(() => { checkImageDirectory(own); }).not.toThrow();
  });

  it("refuses one writable by group or others, a symlink, a file and another owner's, naming the directory", () => {
    const shared = join(root, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(() => { checkImageDirectory(shared); }).toThrow(`image directory ${shared} is writable by group or others (mode 777)`);
    chmodSync(shared, 0o775);
    expect(() => { checkImageDirectory(shared); }).toThrow(/writable by group or others \(mode 775\)/);
    const link = join(root, "link");
    symlinkSync(join(root, "own"), link);
    expect(() => { checkImageDirectory(link); }).toThrow(`image directory ${link} is a symlink`);
    const file = join(root, "file");
    writeFileSync(file, "");
    expect(() => { checkImageDirectory(file); }).toThrow(/is not a directory/);
    expect(() => { checkImageDirectory(join(root, "own"), 12345); }).toThrow(/belongs to uid \d+, not to the server's uid 12345/);
  });
});
