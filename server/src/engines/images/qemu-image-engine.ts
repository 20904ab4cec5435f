/**
 * ImageEngine on qemu-img and coreutils: `qemu-img info` reads formats and sizes, `cp
 * --reflink=auto --sparse=always` moves raw data (a reflink when source and destination share a
 * btrfs filesystem, a hole-preserving copy otherwise), and `qemu-img convert` turns qcow2 into
 * raw and back, writing zero clusters as holes (-S) or leaving them out of the qcow2.
 */
import { constants, createReadStream, lstatSync, openSync } from "node:fs";
import { mkdir, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ImageFormat, imageFileName } from "@prophetstor/dpl-provider/wire";
import type { DownloadOutcome, ImageEngine, ImageFacts, ImageFileFacts, ProgressReporter } from "../../core/ports";
import { UnusableImageError } from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";
import { downloadSparse, inspectUrlImage } from "./sparse-download";
import { UrlGuard } from "./url-guard";

const COPY_COMMAND_MS = 6 * 60 * 60_000;
const IMAGE_FILE = /^([0-9a-f]{32})\.(raw|qcow2)$/;
const UNFINISHED_FILE = /^\..+\.partial$/;

interface QemuImgInfo {
  "virtual-size"?: number;
  format?: string;
  "backing-filename"?: string;
  "format-specific"?: { data?: { "data-file"?: string } };
}

async function qemuImgInfo(file: string, format?: ImageFormat): Promise<QemuImgInfo> {
  const args = ["info", "--output=json", ...(format === undefined ? [] : ["-f", format]), file];
  try {
    const { stdout } = await runCommand("qemu-img", args);
    return JSON.parse(stdout) as QemuImgInfo;
  } catch (error) {
    if (error instanceof CommandFailedError) throw new UnusableImageError(`${file} is not a readable ${format ?? "disk"} image: ${error.stderr.trim()}`, "format");
    throw error;
  }
}

export interface QemuImageEngineOptions {
  /** The longest one image download may take, however steadily its bytes arrive. */
  downloadTimeoutMs?: number;
  /** Networks URL imports may reach although they are not public (loopback, private, link-local). */
  allowedUrlNetworks?: readonly string[];
}

export class QemuImageEngine implements ImageEngine {
  private readonly guard: UrlGuard;

  constructor(private readonly options: QemuImageEngineOptions = {}) {
    this.guard = new UrlGuard(options.allowedUrlNetworks);
  }

  async inspectFile(file: string, declared: ImageFormat): Promise<ImageFileFacts> {
    let facts;
    try {
      facts = await stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UnusableImageError(code === "ENOENT" ? `${file} does not exist` : `${file} cannot be read (${code ?? "error"})`);
    }
    if (!facts.isFile()) throw new UnusableImageError(`${file} is not a regular file`);
    // Probed without -f: a qcow2 file imported as raw would give a volume full of qcow2 metadata.
    const probed = await qemuImgInfo(file);
    if (probed.format !== declared && (probed.format === "qcow2" || declared === "qcow2")) {
      throw new UnusableImageError(`${file} is a ${probed.format ?? "unknown"} image, not ${declared}`, "format");
    }
    const info = await qemuImgInfo(file, declared);
    // A backing or external data file would make qemu-img read some other file on the server.
    if (info["backing-filename"] !== undefined) throw new UnusableImageError(`${file} has a backing file; only self-contained images are imported`);
    if (info["format-specific"]?.data?.["data-file"] !== undefined) throw new UnusableImageError(`${file} has an external data file; only self-contained images are imported`);
    const virtualSize = info["virtual-size"] ?? 0;
    if (virtualSize <= 0) throw new UnusableImageError(`${file} holds an empty disk`);
    return {
      format: declared, virtualSize, realPath: await realpath(file), fileSize: facts.size, allocatedBytes: facts.blocks * 512, ctime: facts.ctimeMs,
    };
  }

  inspectUrl(url: string, declared: ImageFormat): Promise<ImageFacts> {
    return inspectUrlImage(url, declared, this.guard);
  }

  download(url: string, destination: string, progress: ProgressReporter, maxBytes: number): Promise<DownloadOutcome> {
    return downloadSparse(url, destination, progress, { guard: this.guard, maxBytes, overallMs: this.options.downloadTimeoutMs });
  }

  async writeRaw(source: { path: string; format: ImageFormat }, destination: string): Promise<void> {
    // A downloaded or listed qcow2 is checked again here: the header fetched at admission was only its start.
    if (source.format === "qcow2") {
      await this.inspectFile(source.path, "qcow2");
      await runCommand("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", "-S", "4k", source.path, destination], { timeoutMs: COPY_COMMAND_MS });
      return;
    }
    await runCommand("cp", ["--reflink=auto", "--sparse=always", source.path, destination], { timeoutMs: COPY_COMMAND_MS });
  }

  async writeImage(rawSource: string, destination: string, format: ImageFormat): Promise<void> {
    const partial = path.join(path.dirname(destination), `.${path.basename(destination)}.partial`);
    await mkdir(path.dirname(destination), { recursive: true });
    await rm(partial, { force: true });
    try {
      if (format === "raw") {
        await runCommand("cp", ["--reflink=auto", "--sparse=always", rawSource, partial], { timeoutMs: COPY_COMMAND_MS });
      } else {
        // qemu-img leaves zero clusters out of the qcow2: the file holds only the data.
        await runCommand("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", rawSource, partial], { timeoutMs: COPY_COMMAND_MS });
      }
      await rename(partial, destination);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  locate(directories: readonly string[], id: string): Promise<{ path: string; format: ImageFormat } | undefined> {
    for (const directory of directories) {
      for (const format of ImageFormat.options) {
        const candidate = path.join(directory, imageFileName(id, format));
        // Regular files only: a symlink planted under an image id is never probed or served.
        if (lstatSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return Promise.resolve({ path: candidate, format });
      }
    }
    return Promise.resolve(undefined);
  }

  async list(directories: readonly string[]): Promise<{ id: string; path: string; format: ImageFormat }[]> {
    const found: { id: string; path: string; format: ImageFormat }[] = [];
    for (const directory of directories) {
      const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
      const names = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
      for (const name of names.sort()) {
        const match = IMAGE_FILE.exec(name);
        if (match?.[1] !== undefined && match[2] !== undefined) found.push({ id: match[1], path: path.join(directory, name), format: ImageFormat.parse(match[2]) });
      }
    }
    return found;
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async removeUnfinished(directories: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const directory of directories) {
      const names = await readdir(directory).catch(() => [] as string[]);
      for (const name of names.filter((n) => UNFINISHED_FILE.test(n))) {
        await rm(path.join(directory, name), { force: true });
        removed.push(path.join(directory, name));
      }
    }
    return removed;
  }

  read(file: string): NodeJS.ReadableStream {
    // O_NOFOLLOW: a file swapped for a symlink after it was located is not followed.
    return createReadStream(file, { fd: openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW) });
  }
}
