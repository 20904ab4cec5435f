/**
 * The image engine on the in-memory disks (test/support/in-memory-engines.ts), for unit tests of
 * the image service without qemu-img.
 */
import { Readable } from "node:stream";
import type { ImageFormat } from "@prophetstor/dpl-provider/wire";
import type { DownloadOutcome, ImageEngine, ImageFacts, ImageFileFacts, ProgressReporter } from "../../server/src/core/ports";
import { UnusableImageError } from "../../server/src/core/ports";
import type { MemoryDisks } from "./in-memory-engines";

/**
 * Image files as memory files: an image holds its disk's content and size, its format is its
 * name's extension. URLs serve what a test put in `urls`.
 */
export class InMemoryImageEngine implements ImageEngine {
  readonly urls = new Map<string, { content: string; size: number }>();

  constructor(private readonly disks: MemoryDisks) {}

  resolvePath(path: string): Promise<string> {
    if (!this.disks.files.has(path)) return Promise.reject(new UnusableImageError(`${path} does not exist`, "source"));
    return Promise.resolve(path);
  }

  inspectFile(path: string, declared: ImageFormat): Promise<ImageFileFacts> {
    const file = this.disks.files.get(path);
    if (file === undefined) return Promise.reject(new UnusableImageError(`${path} does not exist`, "source"));
    if (!path.endsWith(`.${declared}`)) return Promise.reject(new UnusableImageError(`${path} is not ${declared}`, "format"));
    return Promise.resolve({ format: declared, virtualSize: file.size, fileSize: file.allocated, allocatedBytes: file.allocated, ctime: 0 });
  }

  inspectUrl(url: string, declared: ImageFormat): Promise<ImageFacts> {
    const served = this.urls.get(url);
    if (served === undefined) return Promise.reject(new UnusableImageError(`${url} answered 404`, "source"));
    return Promise.resolve({ format: declared, virtualSize: served.size });
  }

  download(url: string, destination: string, progress: ProgressReporter, maxBytes: number): Promise<DownloadOutcome> {
    const served = this.urls.get(url);
    if (served === undefined) return Promise.reject(new UnusableImageError(`${url} answered 404`, "source"));
    if (served.size > maxBytes) return Promise.reject(new UnusableImageError(`${url} sent more than ${maxBytes} bytes`, "source"));
    this.disks.files.set(destination, { size: served.size, allocated: served.size, content: served.content });
    progress(1);
    return Promise.resolve({ bytesReceived: served.size, bytesWritten: served.size });
  }

  writeRaw(source: { path: string; format: ImageFormat }, destination: string): Promise<void> {
    const from = this.disks.file(source.path);
    const to = this.disks.files.get(destination);
    this.disks.files.set(destination, { size: to?.size ?? from.size, allocated: from.allocated, content: from.content });
    return Promise.resolve();
  }

  writeImage(rawSource: string, destination: string): Promise<void> {
    const from = this.disks.file(rawSource);
    this.disks.files.set(destination, { ...from });
    return Promise.resolve();
  }

  async locate(directories: readonly string[], id: string): Promise<{ path: string; format: ImageFormat } | undefined> {
    return (await this.list(directories)).find((image) => image.id === id);
  }

  list(directories: readonly string[]): Promise<{ id: string; path: string; format: ImageFormat }[]> {
    const images: { id: string; path: string; format: ImageFormat }[] = [];
    for (const path of this.disks.files.keys()) {
      const match = /^(.*)\/([0-9a-f]{32})\.(raw|qcow2)$/.exec(path);
      if (match?.[1] !== undefined && directories.includes(match[1])) images.push({ id: match[2] ?? "", path, format: match[3] as ImageFormat });
    }
    return Promise.resolve(images);
  }

  remove(path: string): Promise<void> {
    this.disks.files.delete(path);
    return Promise.resolve();
  }

  removeUnfinished(): Promise<string[]> {
    return Promise.resolve([]);
  }

  read(path: string): NodeJS.ReadableStream {
    return Readable.from([this.disks.file(path).content]);
  }
}
