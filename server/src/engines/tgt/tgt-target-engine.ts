/**
 * TargetEngine on tgt's user-space tgtd. The server runs its own tgtd on its own control port and
 * portal, and re-applies every export after tgtd restarts (tgtd keeps its state in memory only).
 */
import { createServer } from "node:net";
import { basename } from "node:path";
import type { CacheMode } from "@prophetstor/dpl-provider/wire";
import type { ChapAccount, LunSessionCounters, TargetEngine, TargetSpec } from "../../core/ports";
import { CommandFailedError, DaemonProcess, findProcesses, freezeProcess, runCommand, SecretArgument, thawProcess, type CommandArgument } from "../command";
import { parseConnections, parseLunStats, parsePortals, parseTargets, type ShownTarget } from "./tgtadm-show";

export interface TgtTargetEngineOptions {
  /** tgtd's management channel (`tgtd -C`, 1..32767; a unix socket, not a TCP port); unique per server on one host. */
  controlPort: number;
  /** The iSCSI portal tgtd listens on, e.g. { host: "0.0.0.0", port: 3260 }. */
  portal: { host: string; port: number };
  /** Default "tgtd" / "tgtadm" from PATH. */
  tgtdPath?: string;
  tgtadmPath?: string;
  /** tgtd's I/O threads per LUN (`-t`); tgtd's default when unset. */
  ioThreads?: number;
  /**
   * Where tgtd's output goes (appended), e.g. `<stateDir>/tgtd.log`. Recommended for the server:
   * tgtd then keeps serving if the server dies, and the next server adopts it. Without it the
   * output is piped to this process (tests).
   */
  logFile?: string;
}

/**
 * glibc settings that keep tgtd's per-command buffers out of fresh mmaps: large I/O ran 4-5x
 * faster with them (DESIGN.md §5).
 */
const TGTD_MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "1073741824",
  MALLOC_TOP_PAD_: "67108864",
};

/** Negotiation offers that let 1 MiB I/O travel in few PDUs and without a ready-to-transfer round trip. */
const SESSION_PARAMETERS: ReadonlyArray<readonly [string, string]> = [
  ["MaxRecvDataSegmentLength", "262144"],
  ["MaxXmitDataSegmentLength", "262144"],
  ["MaxBurstLength", "1048576"],
  ["FirstBurstLength", "1048576"],
  ["InitialR2T", "No"],
];

const BS_FLAGS: Record<CacheMode, string> = { direct: "direct", writethrough: "sync", writeback: "" };

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const TGTADM_TIMEOUT_MS = 30_000;
/** Time tgtd's threads get to finish the system call they are in before the pause gives up. */
const FREEZE_TIMEOUT_MS = 5_000;
/**
 * The longest tgtd stays frozen. Initiators time a command out after tens of seconds at the
 * earliest; a pause that outlasts this is resumed and the work it guarded reported as failed.
 */
const MAX_PAUSE_MS = 10_000;

export class TgtdStartError extends Error {
  override name = "TgtdStartError";
}

export class TgtTargetEngine implements TargetEngine {
  private readonly options: Required<Omit<TgtTargetEngineOptions, "ioThreads" | "logFile">> & Pick<TgtTargetEngineOptions, "ioThreads" | "logFile">;
  private daemon: DaemonProcess | undefined;
  /** Secrets this engine gave tgtd, which cannot be read back: a changed secret means re-creating the account. */
  private readonly accountSecrets = new Map<string, string>();
  /** tgtadm calls that read-modify-write tgtd's state run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: TgtTargetEngineOptions) {
    // tgtd rejects larger control ports ("-C argument value out of range").
    if (!Number.isInteger(options.controlPort) || options.controlPort < 1 || options.controlPort > 32767) {
      throw new RangeError(`tgtd control port must be 1..32767, got ${options.controlPort}`);
    }
    this.options = {
      controlPort: options.controlPort,
      portal: options.portal,
      tgtdPath: options.tgtdPath ?? "tgtd",
      tgtadmPath: options.tgtadmPath ?? "tgtadm",
      ioThreads: options.ioThreads,
      logFile: options.logFile,
    };
  }

  private get portalAddress(): string {
    return `${this.options.portal.host}:${this.options.portal.port}`;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Starts tgtd, or adopts one already answering on the control port if it serves this engine's
   * portal (left by a server that crashed). A tgtd serving another portal there belongs to someone
   * else: that fails, because a second tgtd on a used control port exits quietly and every tgtadm
   * call would then change the other server's targets.
   */
  async start(): Promise<void> {
    if (this.daemon?.running) return;
    this.daemon = undefined;
    // A server that died inside withIoPaused() left its tgtd frozen: it would answer nothing.
    for (const pid of this.adoptableTgtdPids()) thawProcess(pid);
    const existing = await this.portals();
    if (existing !== undefined) {
      if (existing.includes(this.portalAddress)) return;
      throw new TgtdStartError(
        `tgtd control port ${this.options.controlPort} is used by another tgtd (portals ${existing.join(", ") || "none"}); choose another control port`,
      );
    }
    await assertPortFree(this.options.portal);
    const args = ["-f", "-C", String(this.options.controlPort), "--iscsi", `portal=${this.portalAddress}`];
    if (this.options.ioThreads !== undefined) args.push("-t", String(this.options.ioThreads));
    const daemon = await DaemonProcess.start(this.options.tgtdPath, args, {
      env: TGTD_MALLOC_ENV,
      ...(this.options.logFile === undefined ? {} : { logFile: this.options.logFile }),
    });
    this.daemon = daemon;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // Asked first, checked after: a tgtd that lost the control port to another exits meanwhile.
      const portals = await this.portals();
      if (!daemon.running) break;
      if (portals !== undefined) {
        if (portals.includes(this.portalAddress)) return;
        daemon.kill();
        throw new TgtdStartError(`tgtd on control port ${this.options.controlPort} serves ${portals.join(", ")}, not ${this.portalAddress}`);
      }
      await sleep(50);
    }
    daemon.kill();
    await daemon.waitForExit(STOP_TIMEOUT_MS);
    this.daemon = undefined;
    throw new TgtdStartError(`tgtd did not start on control port ${this.options.controlPort}: ${daemon.output || "no answer"}`);
  }

  /** tgtd ignores SIGTERM: it stops cleanly only when its targets are gone and it is told to. */
  async stop(): Promise<void> {
    await this.serialized(async () => {
      if ((await this.portals()) !== undefined) {
        for (const target of await this.showTargets()) await this.deleteTarget(target.tid);
        await this.tgtadm(["--mode", "system", "--op", "delete"]).catch(() => undefined);
      }
      const daemon = this.daemon;
      this.daemon = undefined;
      this.accountSecrets.clear();
      if (daemon) {
        if (!(await daemon.waitForExit(STOP_TIMEOUT_MS))) {
          daemon.kill("SIGKILL");
          await daemon.waitForExit(STOP_TIMEOUT_MS);
        }
        return;
      }
      // An adopted tgtd is not our child: wait until its control port stops answering.
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (Date.now() < deadline && (await this.portals()) !== undefined) await sleep(50);
    });
  }

  async isAlive(): Promise<boolean> {
    if (this.daemon && !this.daemon.running) return false;
    return (await this.portals()) !== undefined;
  }

  /** The pid of the tgtd this engine started (undefined when adopted or stopped). */
  get pid(): number | undefined {
    return this.daemon?.running ? this.daemon.pid : undefined;
  }

  // ------------------------------------------------------------------ targets

  applyTarget(spec: TargetSpec): Promise<void> {
    return this.serialized(() => this.converge(spec));
  }

  removeTarget(tid: number): Promise<void> {
    return this.serialized(async () => {
      await this.deleteTarget(tid);
      await this.deleteUnboundAccounts();
    });
  }

  /**
   * tgtd reads a backing file's size once, when the LUN is made. Deleting and re-adding the LUN
   * (same number, same target, sessions stay logged in) makes it read the size again.
   */
  refreshLunSize(spec: TargetSpec): Promise<void> {
    return this.serialized(async () => {
      const target = (await this.showTargets()).find((shown) => shown.tid === spec.tid);
      if (target?.luns.some((lun) => lun.lun === spec.lun)) await this.deleteLun(spec.tid, spec.lun);
      await this.converge(spec);
    });
  }

  closeLun(tid: number, lun: number): Promise<void> {
    return this.serialized(async () => {
      const target = (await this.showTargets()).find((shown) => shown.tid === tid);
      if (target?.luns.some((shown) => shown.lun === lun)) await this.deleteLun(tid, lun);
    });
  }

  async listTargetIds(): Promise<number[]> {
    return (await this.showTargets()).map((target) => target.tid);
  }

  /** Read-only, so not queued behind convergence; tgtd answers it between commands. */
  async ioCounters(): Promise<LunSessionCounters[]> {
    const { stdout } = await this.tgtadm(["--mode", "system", "--op", "stat"], 5_000);
    return parseLunStats(stdout);
  }

  // ------------------------------------------------------------------ pausing I/O

  /**
   * tgtd offers no way to hold one target's commands: `--name state --value offline` makes tgtd
   * drop every command that arrives meanwhile without any answer (the initiator waits for it
   * forever), so the pause stops the whole tgtd instead (SIGSTOP, every thread). Commands that
   * arrive meanwhile stay in the socket buffers and run after SIGCONT; every target of this tgtd
   * waits, not just the asked ones.
   */
  withIoPaused<T>(tids: readonly number[], work: () => Promise<T>): Promise<T> {
    if (tids.length === 0) return work();
    return this.serialized(async () => {
      const pid = this.tgtdPid();
      await freezeProcess(pid, FREEZE_TIMEOUT_MS);
      const pause = { overran: false };
      const limit = setTimeout(() => {
        pause.overran = true;
        thawProcess(pid);
      }, MAX_PAUSE_MS);
      try {
        const result = await work();
        if (pause.overran) throw new Error(`I/O was paused longer than ${MAX_PAUSE_MS} ms and resumed before the work ended`);
        return result;
      } finally {
        clearTimeout(limit);
        thawProcess(pid);
      }
    });
  }

  private tgtdPid(): number {
    const own = this.pid;
    if (own !== undefined) return own;
    const adopted = this.adoptableTgtdPids();
    if (adopted.length !== 1 || adopted[0] === undefined) {
      throw new Error(`cannot tell which process is the tgtd on control port ${this.options.controlPort} (found ${adopted.length})`);
    }
    return adopted[0];
  }

  /** tgtd processes started with this engine's control port (the one a crashed server left, if any). */
  private adoptableTgtdPids(): number[] {
    return findProcesses(basename(this.options.tgtdPath), ["-C", String(this.options.controlPort)]);
  }

  // ------------------------------------------------------------------ convergence

  private async converge(spec: TargetSpec): Promise<void> {
    if (spec.lun < 1) throw new RangeError(`LUN ${spec.lun}: LUN 0 is tgtd's controller LUN`);
    const targets = await this.showTargets();
    const sameName = targets.find((target) => target.iqn === spec.iqn && target.tid !== spec.tid);
    if (sameName) throw new Error(`target ${spec.iqn} already exists with tid ${sameName.tid}, not ${spec.tid}`);
    let target = targets.find((shown) => shown.tid === spec.tid);
    if (target && target.iqn !== spec.iqn) {
      await this.deleteTarget(target.tid);
      target = undefined;
    }
    if (!target) {
      await this.tgtadm(["--mode", "target", "--op", "new", "--tid", String(spec.tid), "--targetname", spec.iqn]);
      for (const [name, value] of SESSION_PARAMETERS) {
        await this.tgtadm(["--mode", "target", "--op", "update", "--tid", String(spec.tid), "--name", name, "--value", value]);
      }
      target = { tid: spec.tid, iqn: spec.iqn, luns: [], incomingAccounts: [], outgoingAccounts: [], acl: [] };
    }
    await this.convergeLuns(target, spec);
    await this.convergeAccounts(target, spec.chap, false);
    await this.convergeAccounts(target, spec.mutualChap, true);
    await this.convergeAcl(target, spec.initiators);
    await this.deleteUnboundAccounts();
  }

  private async convergeLuns(target: ShownTarget, spec: TargetSpec): Promise<void> {
    // librbd does its own caching (the Ceph client's rbd cache settings): an rbd LUN takes no open flags.
    const flags = spec.rbd === undefined ? BS_FLAGS[spec.cacheMode] : "";
    let present = false;
    for (const lun of target.luns) {
      if (lun.lun === 0) continue;
      if (lun.lun === spec.lun && lun.backingPath === spec.backingPath && lun.backingFlags === flags) present = true;
      else await this.deleteLun(target.tid, lun.lun);
    }
    if (present) return;
    await this.tgtadm([
      "--mode", "logicalunit", "--op", "new", "--tid", String(target.tid), "--lun", String(spec.lun),
      ...(spec.rbd === undefined ? ["--bstype", "rdwr"] : ["--bstype", "rbd", "--bsopts", spec.rbd.options]),
      ...(flags ? ["--bsoflags", flags] : []), "--backing-store", spec.backingPath,
    ]);
  }

  private async convergeAccounts(target: ShownTarget, wanted: ChapAccount | undefined, outgoing: boolean): Promise<void> {
    const bound = outgoing ? target.outgoingAccounts : target.incomingAccounts;
    const direction = outgoing ? ["--outgoing"] : [];
    for (const user of bound) {
      if (user === wanted?.username) continue;
      await this.tgtadm(["--mode", "account", "--op", "unbind", "--tid", String(target.tid), "--user", user, ...direction]);
    }
    if (!wanted) return;
    await this.ensureAccount(wanted);
    // ensureAccount may have re-created the account, which unbinds it everywhere: look again.
    const now = (await this.showTargets()).find((shown) => shown.tid === target.tid);
    const stillBound = (outgoing ? now?.outgoingAccounts : now?.incomingAccounts)?.includes(wanted.username) ?? false;
    if (!stillBound) {
      await this.tgtadm(["--mode", "account", "--op", "bind", "--tid", String(target.tid), "--user", wanted.username, ...direction]);
    }
  }

  /**
   * tgtd's accounts are global (one secret per user name, bound to any number of targets). A
   * secret this engine has not set (or set differently) is replaced by re-creating the account
   * and re-binding it where it was bound.
   */
  private async ensureAccount(account: ChapAccount): Promise<void> {
    if (this.accountSecrets.get(account.username) === account.secret) return;
    const existing = await this.accountNames();
    if (existing.includes(account.username)) {
      const bindings = (await this.showTargets()).flatMap((target) => [
        ...(target.incomingAccounts.includes(account.username) ? [{ tid: target.tid, outgoing: false }] : []),
        ...(target.outgoingAccounts.includes(account.username) ? [{ tid: target.tid, outgoing: true }] : []),
      ]);
      await this.tgtadm(["--mode", "account", "--op", "delete", "--user", account.username]);
      await this.tgtadm(["--mode", "account", "--op", "new", "--user", account.username, "--password", new SecretArgument(account.secret)]);
      for (const binding of bindings) {
        await this.tgtadm([
          "--mode", "account", "--op", "bind", "--tid", String(binding.tid), "--user", account.username,
          ...(binding.outgoing ? ["--outgoing"] : []),
        ]);
      }
    } else {
      await this.tgtadm(["--mode", "account", "--op", "new", "--user", account.username, "--password", new SecretArgument(account.secret)]);
    }
    this.accountSecrets.set(account.username, account.secret);
  }

  /** Never binds ALL. Connections of initiators that lost access are closed, so access ends now. */
  private async convergeAcl(target: ShownTarget, initiators: string[]): Promise<void> {
    const tid = String(target.tid);
    for (const initiator of initiators) {
      if (!target.acl.includes(initiator)) await this.tgtadm(["--mode", "target", "--op", "bind", "--tid", tid, "--initiator-name", initiator]);
    }
    const removed = target.acl.filter((initiator) => !initiators.includes(initiator));
    for (const initiator of removed) await this.tgtadm(["--mode", "target", "--op", "unbind", "--tid", tid, "--initiator-name", initiator]);
    const { stdout } = await this.tgtadm(["--mode", "conn", "--op", "show", "--tid", tid]);
    for (const connection of parseConnections(stdout)) {
      if (initiators.includes(connection.initiator)) continue;
      await this.tgtadm(["--mode", "conn", "--op", "delete", "--tid", tid, "--sid", String(connection.sid), "--cid", String(connection.cid)]).catch(
        ignoreGone,
      );
    }
  }

  private async deleteUnboundAccounts(): Promise<void> {
    const targets = await this.showTargets();
    const bound = new Set(targets.flatMap((target) => [...target.incomingAccounts, ...target.outgoingAccounts]));
    for (const user of await this.accountNames()) {
      if (bound.has(user)) continue;
      await this.tgtadm(["--mode", "account", "--op", "delete", "--user", user]).catch(ignoreGone);
      this.accountSecrets.delete(user);
    }
  }

  // ------------------------------------------------------------------ tgtadm

  private async deleteTarget(tid: number): Promise<void> {
    await this.tgtadm(["--mode", "target", "--op", "delete", "--force", "--tid", String(tid)]).catch(ignoreGone);
  }

  /** A LUN with commands in flight is busy for a moment: retry briefly. */
  private async deleteLun(tid: number, lun: number): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.tgtadm(["--mode", "logicalunit", "--op", "delete", "--tid", String(tid), "--lun", String(lun)]);
        return;
      } catch (error) {
        if (!(error instanceof CommandFailedError) || !/busy|in use/i.test(error.stderr) || attempt >= 50) throw error;
        await sleep(100);
      }
    }
  }

  private async showTargets(): Promise<ShownTarget[]> {
    const { stdout } = await this.tgtadm(["--mode", "target", "--op", "show"]);
    return parseTargets(stdout);
  }

  private async accountNames(): Promise<string[]> {
    const { stdout } = await this.tgtadm(["--mode", "account", "--op", "show"]);
    return stdout
      .split("\n")
      .filter((line) => line.startsWith("    "))
      .map((line) => line.trim())
      .filter((line) => line !== "");
  }

  /** The portals of the tgtd on the control port, or undefined when nothing answers there. */
  private async portals(): Promise<string[] | undefined> {
    try {
      const { stdout } = await this.tgtadm(["--mode", "portal", "--op", "show"], 5_000);
      return parsePortals(stdout);
    } catch (error) {
      if (error instanceof CommandFailedError) return undefined;
      throw error;
    }
  }

  private tgtadm(args: CommandArgument[], timeoutMs = TGTADM_TIMEOUT_MS): Promise<{ stdout: string; stderr: string }> {
    return runCommand(this.options.tgtadmPath, ["-C", String(this.options.controlPort), "--lld", "iscsi", ...args], { timeoutMs });
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function ignoreGone(error: unknown): void {
  if (error instanceof CommandFailedError && /can't find|not found|no such/i.test(error.stderr)) return;
  throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** tgtd lists a portal it failed to bind as if it listened: make sure the port is free first. */
function assertPortFree(portal: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(new TgtdStartError(`iSCSI portal ${portal.host}:${portal.port} is not free: ${error.code ?? error.message}`));
    });
    server.listen({ host: portal.host, port: portal.port, exclusive: true }, () => {
      server.close(() => {
        resolve();
      });
    });
  });
}
