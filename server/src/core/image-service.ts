/**
 * Images: volumes made from an image file or URL, and volumes or snapshots written out as image
 * files. The server reads and writes image files only inside its image directories (configured
 * ones, and each pool's own directory on the pool's filesystem, where raw images are reflinks).
 * An image file is its own record: `<id>.<format>` in one of those directories.
 */
import { requireBackendSupports } from "./backend-features";
import path from "node:path";
import { imageFileName, type ImageFormat, type ImageSource } from "@prophetstor/dpl-provider/wire";
import type { CoreContext } from "./context";
import { imageLock, volumeLock } from "./context";
import { DomainError, notFound } from "./domain-error";
import { ReuseEvent, type StartedJob } from "./jobs";
import { UnusableImageError, type ImageEngine } from "./ports";
import type { NewImage, VolumeFromImage } from "./commands";
import type { ResolvedImage, VolumeService } from "./volume-service";

export interface ImageView {
  id: string;
  path: string;
  format: ImageFormat;
  virtualSize: number;
  fileSize: number;
  allocatedBytes: number;
  ctime: number;
}

/** True when `candidate` is `directory` itself or below it (both absolute and normalised). */
function isInside(candidate: string, directory: string): boolean {
  const relative = path.relative(directory, candidate);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

export class ImageService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly volumes: VolumeService,
  ) {}

  private get engine(): ImageEngine {
    const engine = this.ctx.imageEngine;
    if (engine === undefined) throw new DomainError("UNSUPPORTED", "this server has no image engine (qemu-img)");
    return engine;
  }

  /** Configured directories first, then each pool's own. */
  directories(): string[] {
    const pools = this.ctx.store.listPools()
      .filter((pool) => pool.state === "available" && pool.backend === "btrfs")
      .map((pool) => this.ctx.volumeEngine.imageLibraryPath(pool.id));
    return [...this.ctx.settings.imageDirectories, ...pools];
  }

  private requireInsideDirectories(file: string, field: string): void {
    if (this.directories().some((directory) => isInside(file, directory))) return;
    throw new DomainError("INVALID_ARGUMENT", `${file} is outside the server's image directories (${this.directories().join(", ")})`, field);
  }

  // ---------------------------------------------------------------- import

  async importVolume(id: string, request: VolumeFromImage): Promise<StartedJob> {
    const image = await this.resolve(request.image);
    return this.volumes.importImage(id, request, image);
  }

  /** Checks where the image is and what it holds before anything is created. */
  private async resolve(source: ImageSource): Promise<ResolvedImage> {
    const engine = this.engine;
    try {
      if (source.path !== undefined) {
        // Checked as named and once symlinks are resolved, before the file is opened; from then on
        // only the resolved path is used, and the engine opens it without following a symlink.
        this.requireInsideDirectories(source.path, "image.path");
        const resolved = await engine.resolvePath(source.path);
        this.requireInsideDirectories(resolved, "image.path");
        const facts = await engine.inspectFile(resolved, source.format);
        return { kind: "file", path: resolved, format: source.format, virtualSize: facts.virtualSize };
      }
      const url = source.url ?? "";
      const facts = await engine.inspectUrl(url, source.format);
      return { kind: "url", url, format: source.format, virtualSize: facts.virtualSize };
    } catch (error) {
      if (!(error instanceof UnusableImageError)) throw error;
      const field = error.aspect === "format" ? "image.format" : source.path !== undefined ? "image.path" : "image.url";
      throw new DomainError("INVALID_ARGUMENT", error.message, field);
    }
  }

  // ---------------------------------------------------------------- export

  exportImage(id: string, wanted: NewImage): Promise<StartedJob> {
    const engine = this.engine;
    return this.ctx.jobs.start({
      lockKeys: [imageLock(id), volumeLock(wanted.sourceVolumeId)],
      objectType: "image",
      objectId: id,
      operation: "export",
      admit: async () => {
        const pool = this.ctx.store.getPool(this.ctx.store.getVolume(wanted.sourceVolumeId)?.poolId ?? "");
        if (pool !== undefined) requireBackendSupports(pool, "images", "sourceVolumeId");
        const source = this.sourceOf(wanted.sourceVolumeId, wanted.sourceSnapshotId);
        const directory = wanted.directory ?? this.ctx.volumeEngine.imageLibraryPath(source.poolId);
        if (wanted.directory !== undefined && !this.directories().includes(wanted.directory)) {
          throw new DomainError("INVALID_ARGUMENT", `${wanted.directory} is not one of the server's image directories (${this.directories().join(", ")})`, "directory");
        }
        const existing = await engine.locate(this.directories(), id);
        if (existing !== undefined) {
          if (existing.format === wanted.format && path.dirname(existing.path) === directory) return new ReuseEvent(this.ctx.jobs.lastEvent("image", id, "export"));
          throw new DomainError("ALREADY_EXISTS", `image ${id} already exists as ${existing.path}`);
        }
        return { sourcePath: source.dataPath, destination: path.join(directory, imageFileName(id, wanted.format)) };
      },
      work: async ({ sourcePath, destination }) => {
        await engine.writeImage(sourcePath, destination, wanted.format);
      },
      undo: async ({ destination }) => {
        await engine.remove(destination);
      },
    });
  }

  private sourceOf(volumeId: string, snapshotId: string | undefined): { poolId: string; dataPath: string } {
    const volumeEngine = this.ctx.volumeEngine;
    if (snapshotId !== undefined) {
      const snapshot = this.ctx.store.getSnapshot(snapshotId);
      if (snapshot?.volumeId !== volumeId) throw new DomainError("NOT_FOUND", `snapshot ${snapshotId} of volume ${volumeId} does not exist`, "sourceSnapshotId");
      if (snapshot.state !== "available") throw new DomainError("BUSY", `snapshot ${snapshotId} is ${snapshot.state}`, "sourceSnapshotId");
      return { poolId: snapshot.poolId, dataPath: volumeEngine.snapshotDataPath(snapshot.poolId, snapshot.id) };
    }
    const volume = this.ctx.store.getVolume(volumeId);
    if (volume === undefined) throw new DomainError("NOT_FOUND", `volume ${volumeId} does not exist`, "sourceVolumeId");
    if (volume.state !== "available") throw new DomainError("BUSY", `volume ${volumeId} is ${volume.state}`, "sourceVolumeId");
    return { poolId: volume.poolId, dataPath: volumeEngine.volumeDataPath(volume.poolId, volume.id) };
  }

  // ---------------------------------------------------------------- read, delete

  async list(): Promise<{ id: string; path: string }[]> {
    return this.engine.list(this.directories());
  }

  private async requireFile(id: string): Promise<{ path: string; format: ImageFormat }> {
    const found = await this.engine.locate(this.directories(), id);
    if (found === undefined) throw notFound("image", id);
    return found;
  }

  async view(id: string): Promise<ImageView | undefined> {
    const found = await this.engine.locate(this.directories(), id);
    if (found === undefined) return undefined;
    const facts = await this.engine.inspectFile(found.path, found.format);
    return {
      id, path: found.path, format: found.format, virtualSize: facts.virtualSize,
      fileSize: facts.fileSize, allocatedBytes: facts.allocatedBytes, ctime: facts.ctime,
    };
  }

  delete(id: string): Promise<StartedJob> {
    return this.ctx.jobs.start({
      lockKeys: [imageLock(id)],
      objectType: "image",
      objectId: id,
      operation: "delete",
      admit: () => this.requireFile(id),
      work: async (found) => {
        await this.engine.remove(found.path);
      },
      undo: () => undefined,
    });
  }

  /** The image's bytes and how many there are. */
  async content(id: string): Promise<{ stream: NodeJS.ReadableStream; format: ImageFormat; fileSize: number }> {
    const view = await this.view(id);
    if (view === undefined) throw notFound("image", id);
    return { stream: this.engine.read(view.path), format: view.format, fileSize: view.fileSize };
  }
}
