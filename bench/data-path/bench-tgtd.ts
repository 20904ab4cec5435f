/**
 * A tgtd of the benchmark's own (own control port, own portal) serving one file (or RBD image) as
 * LUN 1 of one target, started with a given set of settings. Several can serve the same file at
 * once, so the settings are compared workload by workload on identical file layouts.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { DaemonProcess, runCommand } from "../../server/src/engines/command";
import { releaseOnSignal } from "../framework/cleanup-on-signal";
import { freeTcpPort } from "../fixtures/free-tcp-port";
import { benchTgtdControlPort } from "../fixtures/tgtd-control-port";
import type { TgtdSettings } from "./tgtd-settings";

const TID = 1;

export class BenchTgtd {
  private readonly forgetSignalRelease = releaseOnSignal(() => this.stop());

  private constructor(
    readonly settings: TgtdSettings,
    private readonly daemon: DaemonProcess,
    private readonly controlPort: number,
    readonly portal: string,
    readonly iqn: string,
  ) {}

  /** The LUN as a libiscsi URL (qemu-img, iscsi-perf). */
  get lunUrl(): string {
    return `iscsi://${this.portal}/${this.iqn}/1`;
  }

  /** `backingStore` is a file, or `<rbd pool>/<image>` with `rbdOptions` (`conf=…;id=…`) for bstype rbd. */
  static async start(settings: TgtdSettings, backingStore: string, rbdOptions?: string): Promise<BenchTgtd> {
    const controlPort = benchTgtdControlPort();
    const portal = `127.0.0.1:${await freeTcpPort()}`;
    const args = ["-f", "-C", String(controlPort), "--iscsi", `portal=${portal}`];
    if (settings.ioThreads !== undefined) args.push("-t", String(settings.ioThreads));
    // taskset execs tgtd in its own process: the pid stays tgtd's.
    const daemon = settings.cpus === undefined
      ? await DaemonProcess.start("tgtd", args, { env: settings.env })
      : await DaemonProcess.start("taskset", ["-c", settings.cpus, "tgtd", ...args], { env: settings.env });
    const iqn = `iqn.2026-11.dev.dpl.bench:${settings.name.replace(/[^a-z0-9-]/g, "-")}-${controlPort}`;
    const tgtd = new BenchTgtd(settings, daemon, controlPort, portal, iqn);
    try {
      await tgtd.waitUntilAnswering();
      await tgtd.admin(["--lld", "iscsi", "--mode", "target", "--op", "new", "--tid", String(TID), "--targetname", iqn]);
      await tgtd.admin([
        "--lld", "iscsi", "--mode", "logicalunit", "--op", "new", "--tid", String(TID), "--lun", "1",
        "--backing-store", backingStore, "--bstype", settings.bstype,
        // tgtd's aio backing store always opens with O_DIRECT and refuses --bsoflags; null has no file.
        ...(settings.bstype !== "rdwr" || settings.bsoflags === "" ? [] : ["--bsoflags", settings.bsoflags]),
        ...(settings.bstype === "rbd" && rbdOptions !== undefined ? ["--bsopts", rbdOptions] : []),
      ]);
      for (const [name, value] of Object.entries(settings.sessionParams)) {
        await tgtd.admin(["--lld", "iscsi", "--mode", "target", "--op", "update", "--tid", String(TID), "--name", name, "--value", value]);
      }
      // Loopback only, and the benchmark's own target: any initiator may log in.
      await tgtd.admin(["--lld", "iscsi", "--mode", "target", "--op", "bind", "--tid", String(TID), "--initiator-address", "ALL"]);
    } catch (error) {
      await tgtd.stop();
      throw error;
    }
    return tgtd;
  }

  private admin(args: string[]): Promise<unknown> {
    return runCommand("tgtadm", ["-C", String(this.controlPort), ...args], { timeoutMs: 30_000 });
  }

  /**
   * A tgtd whose control port is taken exits quietly and tgtadm would talk to the other one: wait
   * until OUR process answers, and fail if it died.
   */
  private async waitUntilAnswering(): Promise<void> {
    const exitedEarly = (): Error => new Error(`tgtd exited at start: ${this.daemon.output || "no output"}`);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (!this.daemon.running) throw exitedEarly();
      const answered = await this.admin(["--mode", "sys", "--op", "show"]).then(() => true, () => false);
      // The answer may have come from another tgtd on the same port: ours must still be alive.
      if (answered) {
        await sleep(100);
        if (!this.isRunning()) throw exitedEarly();
        return;
      }
      await sleep(50);
    }
    throw new Error("tgtd did not answer on its control port within 5 s");
  }

  private isRunning(): boolean {
    return this.daemon.running;
  }

  /** CPU seconds (user + system) tgtd has used so far. */
  cpuSeconds(): number {
    const pid = this.daemon.pid;
    if (pid === undefined || !this.daemon.running) return 0;
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, counted after the ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** tgtd ignores SIGTERM: delete the target, then the system, then make sure it is gone. */
  async stop(): Promise<void> {
    this.forgetSignalRelease();
    if (this.daemon.running) {
      await this.admin(["--lld", "iscsi", "--mode", "target", "--op", "delete", "--force", "--tid", String(TID)]).catch(() => undefined);
      await this.admin(["--mode", "system", "--op", "delete"]).catch(() => undefined);
    }
    if (!(await this.daemon.waitForExit(5_000))) {
      this.daemon.kill("SIGKILL");
      await this.daemon.waitForExit(5_000);
    }
  }
}
