/**
 * A real tgtd on a random control port and a free portal, read and written through libiscsi's
 * user-space initiator (qemu-io, iscsi-readcapacity16). Needs root.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, truncate } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetSpec } from "../../core/ports";
import { CommandFailedError, DaemonProcess, runCommand } from "../command";
import { TgtdStartError, TgtTargetEngine } from "./tgt-target-engine";

const MiB = 2 ** 20;
const workRoot = path.resolve(__dirname, "../../../../.work");
const GRANTED = "iqn.2026-01.test.dpl:granted";
const STRANGER = "iqn.2026-01.test.dpl:stranger";

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** A control port no tgtd on this host uses (tgtd keeps a socket file per control port). */
function unusedControlPort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!existsSync(`/var/run/tgtd/socket.${port}`)) return port;
  }
}

interface Login {
  initiator: string;
  user?: string;
  password?: string;
}

function imageOptions(portal: number, iqn: string, lun: number, login: Login): string {
  const options = [
    "driver=raw",
    "file.driver=iscsi",
    "file.transport=tcp",
    `file.portal=127.0.0.1:${portal}`,
    `file.target=${iqn}`,
    `file.lun=${lun}`,
    `file.initiator-name=${login.initiator}`,
  ];
  if (login.user !== undefined) options.push(`file.user=${login.user}`, `file.password=${login.password ?? ""}`);
  return options.join(",");
}

/** Runs qemu-io commands (e.g. "write -P 0xab 0 1M") against the LUN as one initiator. */
async function qemuIo(portal: number, iqn: string, lun: number, login: Login, commands: string[]): Promise<string> {
  const args = ["--image-opts", ...commands.flatMap((command) => ["-c", command]), imageOptions(portal, iqn, lun, login)];
  const { stdout, stderr } = await runCommand("qemu-io", args, { timeoutMs: 30_000 });
  // qemu-io reports a failed pattern check on stdout but still exits 0.
  if (/Pattern verification failed|failed:/i.test(stdout + stderr)) throw new Error(`qemu-io: ${stdout}${stderr}`);
  return stdout;
}

async function readCapacityBytes(portal: number, iqn: string, lun: number, initiator: string, url = ""): Promise<number> {
  const target = url || `iscsi://127.0.0.1:${portal}/${iqn}/${lun}`;
  const { stdout } = await runCommand("iscsi-readcapacity16", ["-i", initiator, target], { timeoutMs: 30_000 });
  const lba = /RETURNED LOGICAL BLOCK ADDRESS:(\d+)/.exec(stdout);
  const blockLength = /LOGICAL BLOCK LENGTH IN BYTES:(\d+)/.exec(stdout);
  return (Number(lba?.[1]) + 1) * Number(blockLength?.[1]);
}

/** Polls `check` until it holds or `ms` pass: a bounded wait, not a count of tries (each try is slower on a busy machine). */
async function waitUntil(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The state letter of each of a process's threads ("T" when stopped). */
function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((task) => {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  });
}

let dir: string;
let controlPort: number;
let portal: number;
let engine: TgtTargetEngine;
const tgtadm = (args: string[]): Promise<{ stdout: string }> => runCommand("tgtadm", ["-C", String(controlPort), "--lld", "iscsi", ...args]);

beforeAll(async () => {
  await runCommand("mkdir", ["-p", workRoot]);
  dir = await mkdtemp(path.join(workRoot, "tgt-engine-"));
  controlPort = unusedControlPort();
  portal = await freeTcpPort();
  engine = new TgtTargetEngine({ controlPort, portal: { host: "127.0.0.1", port: portal }, logFile: path.join(dir, "tgtd.log") });
  await engine.start();
});

afterAll(async () => {
  await engine.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

function specFor(tid: number, overrides: Partial<TargetSpec> = {}): TargetSpec {
  return {
    iqn: `iqn.2026-01.test.dpl:vol${tid}`,
    tid,
    lun: 1,
    backingPath: path.join(dir, `lun${tid}.img`),
    cacheMode: "direct",
    initiators: [GRANTED],
    ...overrides,
  };
}

async function backingFile(spec: TargetSpec, size = 64 * MiB): Promise<void> {
  await runCommand("truncate", ["-s", String(size), spec.backingPath]);
}

describe("TgtTargetEngine", () => {
  it("runs its own tgtd with the glibc malloc settings, and refuses a control port in use", async () => {
    expect(await engine.isAlive()).toBe(true);
    const pid = engine.pid;
    expect(pid).toBeDefined();
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    expect(environ.split("\0")).toEqual(expect.arrayContaining(["MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TOP_PAD_=67108864"]));
    expect(await readFile(path.join(dir, "tgtd.log"), "utf8")).toContain("tgtd");

    const intruder = new TgtTargetEngine({ controlPort, portal: { host: "127.0.0.1", port: await freeTcpPort() } });
    await expect(intruder.start()).rejects.toThrow(TgtdStartError);
    await expect(intruder.start()).rejects.toThrow(/used by another tgtd/);
    // Starting again is a no-op for the owner.
    await engine.start();
    expect(engine.pid).toBe(pid);
  });

  it("serves a LUN to the granted initiator only, with the tuned session parameters", async () => {
    const spec = specFor(1);
    await backingFile(spec);
    await engine.applyTarget(spec);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["write -P 0xab 0 1M", "read -P 0xab 0 1M"]);
    const onDisk = await readFile(spec.backingPath);
    expect(onDisk.subarray(0, MiB).every((byte) => byte === 0xab)).toBe(true);

    await expect(qemuIo(portal, spec.iqn, 1, { initiator: STRANGER }, ["read 0 4k"])).rejects.toThrow(/Target not found|log in/);

    const { stdout } = await tgtadm(["--mode", "target", "--op", "show", "--tid", "1"]);
    for (const parameter of ["MaxRecvDataSegmentLength=262144", "MaxXmitDataSegmentLength=262144", "MaxBurstLength=1048576", "FirstBurstLength=1048576", "InitialR2T=No"]) {
      expect(stdout).toContain(parameter);
    }
    const { stdout: all } = await tgtadm(["--mode", "target", "--op", "show"]);
    expect(all).toContain("Backing store flags: direct");
    expect(all).not.toMatch(/^\s+ALL$/m);
    expect(await engine.listTargetIds()).toContain(1);
  });

  it("is idempotent and converges LUN flags, ACL and backing file to the spec", async () => {
    const spec = specFor(2, { initiators: [GRANTED, STRANGER] });
    await backingFile(spec);
    await engine.applyTarget(spec);
    const first = (await tgtadm(["--mode", "target", "--op", "show"])).stdout;
    await engine.applyTarget(spec);
    expect((await tgtadm(["--mode", "target", "--op", "show"])).stdout).toBe(first);

    const changed = specFor(2, { initiators: [GRANTED], cacheMode: "writethrough", backingPath: path.join(dir, "lun2b.img") });
    await backingFile(changed, 32 * MiB);
    await engine.applyTarget(changed);
    const shown = (await tgtadm(["--mode", "target", "--op", "show"])).stdout;
    const target2 = shown.slice(shown.indexOf("Target 2:"));
    expect(target2).toContain(`Backing store path: ${changed.backingPath}`);
    expect(target2).toContain("Backing store flags: sync");
    expect(target2).not.toContain(STRANGER);
    expect(await readCapacityBytes(portal, spec.iqn, 1, GRANTED)).toBe(32 * MiB);

    await engine.applyTarget({ ...changed, cacheMode: "writeback" });
    const writeback = (await tgtadm(["--mode", "target", "--op", "show"])).stdout;
    expect(writeback.slice(writeback.indexOf("Target 2:"))).toMatch(/Backing store flags: *\n/);
  });

  it("requires CHAP when set, and mutual CHAP answers the initiator's challenge", async () => {
    const chap = { username: "dpl-host", secret: "host-secret-123" };
    const mutualChap = { username: "dpl-target", secret: "target-secret-45" };
    const spec = specFor(3, { chap, mutualChap });
    await backingFile(spec);
    await engine.applyTarget(spec);
    await expect(qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read 0 4k"])).rejects.toThrow(/Authentication failure/);
    await expect(qemuIo(portal, spec.iqn, 1, { initiator: GRANTED, user: chap.username, password: "wrong-secret-99" }, ["read 0 4k"])).rejects.toThrow(
      /Authentication failure/,
    );
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED, user: chap.username, password: chap.secret }, ["read 0 4k"]);

    const url = (targetSecret: string): string =>
      `iscsi://${chap.username}%${chap.secret}@127.0.0.1:${portal}/${spec.iqn}/1?target_user=${mutualChap.username}&target_password=${targetSecret}`;
    expect(await readCapacityBytes(portal, spec.iqn, 1, GRANTED, url(mutualChap.secret))).toBe(64 * MiB);
    await expect(readCapacityBytes(portal, spec.iqn, 1, GRANTED, url("not-the-secret1"))).rejects.toBeInstanceOf(CommandFailedError);

    // A new secret replaces the old one.
    await engine.applyTarget({ ...spec, chap: { ...chap, secret: "rotated-secret-1" } });
    await expect(qemuIo(portal, spec.iqn, 1, { initiator: GRANTED, user: chap.username, password: chap.secret }, ["read 0 4k"])).rejects.toThrow(
      /Authentication failure/,
    );
    // Dropping CHAP unbinds and deletes the accounts.
    await engine.applyTarget({ ...spec, chap: undefined, mutualChap: undefined });
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read 0 4k"]);
    expect((await tgtadm(["--mode", "account", "--op", "show"])).stdout).not.toMatch(/dpl-host|dpl-target/);
  });

  it("drops a logged-in initiator as soon as it is unassigned", async () => {
    const spec = specFor(4);
    await backingFile(spec);
    await engine.applyTarget(spec);
    // An initiator that stays logged in while it is unassigned, then tries to read. Its 8 s pause
    // leaves a busy machine time to unassign first (a read before that would rightly succeed).
    const session = await DaemonProcess.start("qemu-io", ["--image-opts", "-c", "sleep 8000", "-c", "read -P 0 0 4k", imageOptions(portal, spec.iqn, 1, { initiator: GRANTED })]);
    try {
      await waitUntil(async () => (await tgtadm(["--mode", "conn", "--op", "show", "--tid", "4"])).stdout.includes(GRANTED));
      const loggedInBy = Date.now();
      expect((await tgtadm(["--mode", "conn", "--op", "show", "--tid", "4"])).stdout).toContain(GRANTED);
      await engine.applyTarget({ ...spec, initiators: [] });
      expect((await tgtadm(["--mode", "conn", "--op", "show", "--tid", "4"])).stdout).not.toContain(GRANTED);
      // Until 3 s past the read (due 8 s after the login), so the output below tells what it got.
      await session.waitForExit(Math.max(0, loggedInBy + 11_000 - Date.now()));
      expect(session.output).not.toMatch(/^read 4096\/4096 bytes/m);
    } finally {
      session.kill();
    }
    await expect(qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read 0 4k"])).rejects.toThrow(/Target not found|log in/);
  });

  it("shows a grown backing file to initiators after refreshLunSize, keeping the data", async () => {
    const spec = specFor(5);
    await backingFile(spec, 64 * MiB);
    await engine.applyTarget(spec);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["write -P 0x5a 0 64k"]);
    expect(await readCapacityBytes(portal, spec.iqn, 1, GRANTED)).toBe(64 * MiB);
    await truncate(spec.backingPath, 96 * MiB);
    expect(await readCapacityBytes(portal, spec.iqn, 1, GRANTED)).toBe(64 * MiB);
    await engine.refreshLunSize(spec);
    expect(await readCapacityBytes(portal, spec.iqn, 1, GRANTED)).toBe(96 * MiB);
    const info = await runCommand("qemu-img", ["info", "--image-opts", imageOptions(portal, spec.iqn, 1, { initiator: GRANTED })]);
    expect(info.stdout).toMatch(/virtual size: 96 MiB/);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read -P 0x5a 0 64k", "write -P 0x11 80M 1M", "read -P 0x11 80M 1M"]);
  });

  it("removes targets idempotently", async () => {
    const spec = specFor(6);
    await backingFile(spec);
    await engine.applyTarget(spec);
    expect(await engine.listTargetIds()).toContain(6);
    await engine.removeTarget(6);
    await engine.removeTarget(6);
    expect(await engine.listTargetIds()).not.toContain(6);
    await expect(qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read 0 4k"])).rejects.toThrow(/Target not found|log in/);
  });

  it("holds an initiator's commands while I/O is paused and runs them after; a tgtd left frozen is thawed at start", async () => {
    const spec = specFor(9);
    await backingFile(spec);
    await engine.applyTarget(spec);
    const pid = engine.pid ?? 0;
    const done = { at: 0 };
    let writing: Promise<unknown> = Promise.resolve();
    const resumedAt = await engine.withIoPaused([9], async () => {
      expect(threadStates(pid).every((state) => state === "T" || state === "t")).toBe(true);
      writing = qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["write -P 0x5c 0 64k"]).then(() => {
        done.at = Date.now();
      });
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(done.at).toBe(0);
      return Date.now();
    });
    await writing;
    expect(done.at).toBeGreaterThanOrEqual(resumedAt);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read -P 0x5c 0 64k"]);

    // A server that died inside a pause left tgtd stopped; the next one must not hang on it.
    process.kill(pid, "SIGSTOP");
    const next = new TgtTargetEngine({ controlPort, portal: { host: "127.0.0.1", port: portal } });
    await next.start();
    expect(threadStates(pid).some((state) => state === "T" || state === "t")).toBe(false);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read -P 0x5c 0 64k"]);
  });

  it("notices a dead tgtd, starts a new one, and stops leaving no tgtd behind", async () => {
    const spec = specFor(7);
    await backingFile(spec);
    await engine.applyTarget(spec);
    const firstPid = engine.pid;
    process.kill(firstPid ?? 0, "SIGKILL");
    await waitUntil(async () => !(await engine.isAlive()));
    expect(await engine.isAlive()).toBe(false);

    await engine.start();
    expect(engine.pid).not.toBe(firstPid);
    expect(await engine.listTargetIds()).toEqual([]);
    await engine.applyTarget(spec);
    await qemuIo(portal, spec.iqn, 1, { initiator: GRANTED }, ["read 0 4k"]);

    const pid = engine.pid;
    await engine.stop();
    expect(await engine.isAlive()).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await engine.stop();
  });
});
