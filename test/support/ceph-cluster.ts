/**
 * A real single-node Ceph cluster for a test file or a benchmark: scripts/ceph-cluster.sh builds
 * it in a scratch directory under .work/ and `stop()` removes it with everything it wrote. The
 * DPL server that uses it must stop first: its tgtd holds rbd images open.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, "../..");
const clusterScript = join(repoRoot, "scripts/ceph-cluster.sh");

/** What a Ceph client (the DPL server, rbd, fio's rbd engine) needs to reach the cluster. */
export interface CephClusterAccess {
  conf: string;
  keyring: string;
  /** The cephx user, without "client.". */
  client: string;
  rbdPool: string;
}

export class TestCephCluster implements CephClusterAccess {
  private constructor(
    readonly dir: string,
    readonly conf: string,
    readonly keyring: string,
    readonly client: string,
    readonly rbdPool: string,
  ) {}

  /**
   * Installs the packages when missing (quick when present), then starts a cluster.
   * `osdSize` is the apparent size of the OSD's sparse file ("8G" by default): the pool's capacity.
   */
  static async start(options: { osdSize?: string } = {}): Promise<TestCephCluster> {
    await execFileAsync("bash", [clusterScript, "install"], { timeout: 600_000 });
    mkdirSync(join(repoRoot, ".work"), { recursive: true });
    const dir = mkdtempSync(join(repoRoot, ".work", "ceph-"));
    const env = options.osdSize === undefined ? process.env : { ...process.env, CEPH_OSD_SIZE: options.osdSize };
    const { stdout } = await execFileAsync("bash", [clusterScript, "start", dir], { timeout: 240_000, env });
    const values = new Map(stdout.split("\n").flatMap((line) => {
      const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      return match?.[1] === undefined || match[2] === undefined ? [] : [[match[1], match[2]] as const];
    }));
    const value = (key: string): string => {
      const found = values.get(key);
      if (found === undefined) throw new Error(`ceph-cluster.sh printed no ${key}: ${stdout}`);
      return found;
    };
    return new TestCephCluster(dir, value("CEPH_CONF"), value("CEPH_KEYRING"), value("CEPH_CLIENT"), value("RBD_POOL"));
  }

  /** The server options that let a DPL server use this cluster's files. */
  get serverArgs(): string[] {
    return ["--allow-ceph-file", this.conf, this.keyring];
  }

  /** The wire's pool-create `ceph` field for this cluster. */
  get poolConnection(): { config_path: string; keyring_path: string; client_id: string; rbd_pool: string } {
    return { config_path: this.conf, keyring_path: this.keyring, client_id: this.client, rbd_pool: this.rbdPool };
  }

  /** `rbd` as the cluster's client user, for what only Ceph itself can tell. */
  async rbd(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync("rbd", ["--conf", this.conf, "--keyring", this.keyring, "--id", this.client, ...args], { timeout: 600_000 });
    return stdout;
  }

  /** The images a DPL pool made in the cluster's rbd pool (the server names them `dpl-<pool>-<volume>`), sorted. */
  async imagesOfPool(dplPoolId: string): Promise<string[]> {
    const all = JSON.parse(await this.rbd("ls", "--format", "json", "--pool", this.rbdPool)) as string[];
    return all.filter((name) => name.startsWith(`dpl-${dplPoolId}-`)).sort();
  }

  async stop(): Promise<void> {
    await execFileAsync("bash", [clusterScript, "stop", this.dir], { timeout: 120_000 });
  }
}
