/**
 * The `rbd` and `ceph` commands for one pool's Ceph connection, with their JSON output parsed by
 * the schemas below (the shapes Ceph 16 prints with `--format json`). Every call names the
 * cluster's config, the cephx user and its keyring explicitly, so nothing depends on /etc/ceph.
 */
import { z } from "zod";
import { EngineError, type CephConnection } from "../../core/ports";
import { CommandFailedError, runCommand } from "../command";

/** Image operations that walk objects (flatten, rollback, thick create, remove) take a while on big images. */
export const RBD_SLOW_COMMAND_MS = 30 * 60_000;
const RBD_COMMAND_MS = 60_000;

const RbdListEntry = z.object({
  image: z.string(),
  size: z.number(),
  snapshot: z.string().optional(),
  protected: z.union([z.string(), z.boolean()]).optional(),
}).loose();

const RbdSnapshot = z.object({ id: z.number(), name: z.string(), size: z.number(), protected: z.union([z.string(), z.boolean()]).optional() }).loose();

const RbdChild = z.object({ pool: z.string(), image: z.string() }).loose();

const RbdDu = z.object({
  images: z.array(z.object({ name: z.string(), snapshot: z.string().optional(), provisioned_size: z.number(), used_size: z.number() }).loose()),
}).loose();

const RbdInfo = z.object({
  name: z.string(),
  size: z.number(),
  /** A clone's parent snapshot. */
  parent: z.object({ pool: z.string(), image: z.string(), snapshot: z.string() }).loose().optional(),
}).loose();

const CephDf = z.object({
  pools: z.array(z.object({ name: z.string(), stats: z.object({ stored: z.number(), max_avail: z.number() }).loose() }).loose()),
}).loose();

const CephHealth = z.object({ status: z.string() }).loose();

export type RbdSnapshot = z.infer<typeof RbdSnapshot>;

/** rbd's errno texts for an image or snapshot that is not there. */
const MISSING = /No such file or directory|does not exist|error opening image.*\(2\)/i;

function parsed<T>(schema: z.ZodType<T>, stdout: string, what: string): T {
  const result = schema.safeParse(JSON.parse(stdout === "" ? "null" : stdout));
  if (!result.success) throw new EngineError("FAILED", `${what}: unexpected output from Ceph (${result.error.issues[0]?.message ?? "invalid"})`);
  return result.data;
}

export class RbdCli {
  constructor(readonly connection: CephConnection) {}

  /** `<rbd pool>/<image>`, the spec rbd and tgtd's rbd store take. */
  spec(image: string, snapshot?: string): string {
    return `${this.connection.rbdPool}/${image}${snapshot === undefined ? "" : `@${snapshot}`}`;
  }

  private get connectionArgs(): string[] {
    const c = this.connection;
    return ["--conf", c.configPath, "--keyring", c.keyringPath, "--id", c.clientId];
  }

  /** Runs `rbd`; a missing image or snapshot becomes NOT_FOUND, a full cluster NO_SPACE. */
  async rbd(args: string[], timeoutMs = RBD_COMMAND_MS): Promise<string> {
    try {
      return (await runCommand("rbd", [...this.connectionArgs, ...args], { timeoutMs })).stdout;
    } catch (error) {
      if (error instanceof CommandFailedError && MISSING.test(error.stderr)) throw new EngineError("NOT_FOUND", error.message);
      throw error;
    }
  }

  async ceph(args: string[]): Promise<string> {
    return (await runCommand("ceph", [...this.connectionArgs, "--connect-timeout", "20", ...args], { timeoutMs: RBD_COMMAND_MS })).stdout;
  }

  /** Every image of the RBD pool and, with `long`, every snapshot (one line each). */
  async list(): Promise<z.infer<typeof RbdListEntry>[]> {
    return parsed(z.array(RbdListEntry).nullable(), await this.rbd(["ls", "--long", "--format", "json", "--pool", this.connection.rbdPool]), "rbd ls") ?? [];
  }

  async snapshots(image: string): Promise<RbdSnapshot[]> {
    return parsed(z.array(RbdSnapshot), await this.rbd(["snap", "ls", "--format", "json", this.spec(image)]), "rbd snap ls");
  }

  /** Images cloned from this snapshot, as `<pool>/<image>` specs. */
  async children(image: string, snapshot: string): Promise<string[]> {
    const children = parsed(z.array(RbdChild), await this.rbd(["children", "--format", "json", this.spec(image, snapshot)]), "rbd children");
    return children.map((child) => `${child.pool}/${child.image}`);
  }

  async info(image: string): Promise<z.infer<typeof RbdInfo>> {
    return parsed(RbdInfo, await this.rbd(["info", "--format", "json", this.spec(image)]), "rbd info");
  }

  /** Bytes the image itself (not its snapshots) has allocated. */
  async usedBytes(image: string): Promise<number> {
    const du = parsed(RbdDu, await this.rbd(["du", "--format", "json", this.spec(image)]), "rbd du");
    return du.images.find((entry) => entry.name === image && entry.snapshot === undefined)?.used_size ?? 0;
  }

  async poolStats(): Promise<{ stored: number; maxAvail: number }> {
    const df = parsed(CephDf, await this.ceph(["df", "--format", "json"]), "ceph df");
    const pool = df.pools.find((p) => p.name === this.connection.rbdPool);
    if (pool === undefined) throw new EngineError("NOT_FOUND", `Ceph has no pool ${this.connection.rbdPool}`);
    return { stored: pool.stats.stored, maxAvail: pool.stats.max_avail };
  }

  async health(): Promise<string> {
    return parsed(CephHealth, await this.ceph(["health", "--format", "json"]), "ceph health").status;
  }
}
