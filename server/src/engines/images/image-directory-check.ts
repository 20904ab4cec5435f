/**
 * An image directory must be the server's alone. Anyone else who can write there could plant a
 * symlink or swap a file between the server's check of a path and its use (the server runs as
 * root), so a directory that is a symlink, owned by another user, or writable by group or others
 * is refused at start.
 */
import { lstatSync } from "node:fs";

export function checkImageDirectory(directory: string, owner = process.getuid?.() ?? 0): void {
  const facts = lstatSync(directory);
  if (facts.isSymbolicLink()) throw new Error(`image directory ${directory} is a symlink; name the directory it points to`);
  if (!facts.isDirectory()) throw new Error(`image directory ${directory} is not a directory`);
  if (facts.uid !== owner) throw new Error(`image directory ${directory} belongs to uid ${facts.uid}, not to the server's uid ${owner}`);
  if ((facts.mode & 0o022) !== 0) {
    throw new Error(`image directory ${directory} is writable by group or others (mode ${(facts.mode & 0o777).toString(8)}); run chmod go-w on it`);
  }
}
