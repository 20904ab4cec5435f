/**
 * ImageEngine on qemu-img and coreutils: `qemu-img info` reads formats and sizes, `cp
 * --reflink=auto --sparse=always` moves raw data (a reflink when source and destination share a
 * btrfs filesystem, a hole-preserving copy otherwise), and `qemu-img convert` turns qcow2 into
 * raw and back, writing zero clusters as holes (-S) or leaving them out of the qcow2.
 */
import { constants, createReadStream, lstatSync, openSync, type Stats } from "node:fs";
import { mkdir, open, readdir, realpath, rename, rm, type FileHandle } from "node:fs/promises";
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

/**
 * An image file opened once, without following a symlink. Child processes read it through the
 * kernel's link to this descriptor, so a path swapped after the checks changes nothing.
 */
class OpenedImageFile {
  private constructor(
    private readonly handle: FileHandle,
    /** The path the caller named, for messages. */
    readonly name: string,
  ) {}

  /** Refuses a symlink, a missing file and anything but a regular file (O_NONBLOCK: a FIFO cannot hang the open). */
  static async open(file: string): Promise<OpenedImageFile> {
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw new UnusableImageError(`${file} is a symlink; name the image file itself`);
      throw new UnusableImageError(code === "ENOENT" ? `${file} does not exist` : `${file} cannot be read (${code ?? "error"})`);
    }
    const opened = new OpenedImageFile(handle, file);
    if (!(await handle.stat()).isFile()) {
      await opened.close();
      throw new UnusableImageError(`${file} is not a regular file`);
    }
    return opened;
  }

  /** The open file itself, as a path another process can open (it reaches this inode whatever the name now points to). */
  get descriptorPath(): string {
    return `/proc/${process.pid}/fd/${this.handle.fd}`;
  }

  stat(): Promise<Stats> {
    return this.handle.stat();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

async function withOpenedImage<T>(file: string, use: (image: OpenedImageFile) => Promise<T>): Promise<T> {
  const image = await OpenedImageFile.open(file);
  try {
    return await use(image);
  } finally {
    await image.close();
  }
}

async function qemuImgInfo(image: OpenedImageFile, format?: ImageFormat): Promise<QemuImgInfo> {
  const args = ["info", "--output=json", ...(format === undefined ? [] : ["-f", format]), image.descriptorPath];
  try {
    const { stdout } = await runCommand("qemu-img", args);
    return JSON.parse(stdout) as QemuImgInfo;
  } catch (error) {
    if (error instanceof CommandFailedError) {
      const reason = error.stderr.trim().replaceAll(image.descriptorPath, image.name);
      throw new UnusableImageError(`${image.name} is not a readable ${format ?? "disk"} image: ${reason}`, "format");
    }
    throw error;
  }
}

/** Format, virtual size and self-containedness of an opened image, read through its descriptor. */
async function probeImage(image: OpenedImageFile, declared: ImageFormat): Promise<number> {
  const file = image.name;
  // Probed without -f: a qcow2 file imported as raw would give a volume full of qcow2 metadata.
  const probed = await qemuImgInfo(image);
  if (probed.format !== declared && (probed.format === "qcow2" || declared === "qcow2")) {
    throw new UnusableImageError(`${file} is a ${probed.format ?? "unknown"} image, not ${declared}`, "format");
  }
  const info = await qemuImgInfo(image, declared);
  // A backing or external data file would make qemu-img read some other file on the server.
  if (info["backing-filename"] !== undefined) throw new UnusableImageError(`${file} has a backing file; only self-contained images are imported`);
  if (info["format-specific"]?.data?.["data-file"] !== undefined) throw new UnusableImageError(`${file} has an external data file; only self-contained images are imported`);
  const virtualSize = info["virtual-size"] ?? 0;
  if (virtualSize <= 0) throw new UnusableImageError(`${file} holds an empty disk`);
  return virtualSize;
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

  async resolvePath(file: string): Promise<string> {
    try {
      return await realpath(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UnusableImageError(code === "ENOENT" ? `${file} does not exist` : `${file} cannot be resolved (${code ?? "error"})`);
    }
  }

  inspectFile(file: string, declared: ImageFormat): Promise<ImageFileFacts> {
    return withOpenedImage(file, async (image) => {
      const virtualSize = await probeImage(image, declared);
      const facts = await image.stat();
      return { format: declared, virtualSize, fileSize: facts.size, allocatedBytes: facts.blocks * 512, ctime: facts.ctimeMs };
    });
  }

  inspectUrl(url: string, declared: ImageFormat): Promise<ImageFacts> {
    return inspectUrlImage(url, declared, this.guard);
  }

  download(url: string, destination: string, progress: ProgressReporter, maxBytes: number): Promise<DownloadOutcome> {
    return downloadSparse(url, destination, progress, { guard: this.guard, maxBytes, overallMs: this.options.downloadTimeoutMs });
  }

  writeRaw(source: { path: string; format: ImageFormat }, destination: string): Promise<void> {
    return withOpenedImage(source.path, async (image) => {
      if (source.format === "qcow2") {
        // Checked again here, on the very file converted: the header fetched at admission was only its start.
        await probeImage(image, "qcow2");
        await runCommand("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", "-S", "4k", image.descriptorPath, destination], { timeoutMs: COPY_COMMAND_MS });
      } else {
        await runCommand("cp", ["--reflink=auto", "--sparse=always", image.descriptorPath, destination], { timeoutMs: COPY_COMMAND_MS });
      }
    });
  }

  /**
   * The partial file is made here with O_EXCL (a planted file or symlink under its name fails the
   * export rather than being written through), and cp or qemu-img write into that very file.
   */
  async writeImage(rawSource: string, destination: string, format: ImageFormat): Promise<void> {
    const partial = path.join(path.dirname(destination), `.${path.basename(destination)}.partial`);
    await mkdir(path.dirname(destination), { recursive: true });
    // Only a crash leaves one (start-up removes them too); a symlink of that name goes, not its target.
    await rm(partial, { force: true });
    const handle = await open(partial, "wx", 0o644);
    try {
      const into = `/proc/${process.pid}/fd/${handle.fd}`;
      if (format === "raw") {
        await runCommand("cp", ["--reflink=auto", "--sparse=always", rawSource, into], { timeoutMs: COPY_COMMAND_MS });
      } else {
        // qemu-img leaves zero clusters out of the qcow2: the file holds only the data.
        await runCommand("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", rawSource, into], { timeoutMs: COPY_COMMAND_MS });
      }
      await rename(partial, destination);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    } finally {
      await handle.close();
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
