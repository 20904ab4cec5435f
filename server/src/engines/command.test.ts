import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError, DaemonProcess, describeCommand, REDACTED, runCommand, SecretArgument } from "./command";

describe("runCommand", () => {
  it("marks a tool's failure on a full filesystem NO_SPACE, and any other failure FAILED", async () => {
    const full = await runCommand("sh", ["-c", "echo 'fallocate: fallocate failed: No space left on device' >&2; exit 1"]).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(CommandFailedError);
    expect(full).toMatchObject({ code: "NO_SPACE" });
    const denied = await runCommand("sh", ["-c", "echo 'Permission denied' >&2; exit 1"]).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: "FAILED" });
  });

  it("returns stdout and passes input and env", async () => {
    expect((await runCommand("cat", [], { input: "hello" })).stdout).toBe("hello");
    expect((await runCommand("printenv", ["DPL_TEST_VALUE"], { env: { DPL_TEST_VALUE: "42" } })).stdout.trim()).toBe("42");
  });

  it("passes arguments verbatim, without a shell", async () => {
    expect((await runCommand("echo", ["$HOME; ls", "*"])).stdout).toBe("$HOME; ls *\n");
  });

  it("reports a failing command with exit code and trimmed stderr", async () => {
    const error = await runCommand("ls", ["/nonexistent-dpl-path"]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandFailedError);
    const failed = error as CommandFailedError;
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toContain("No such file");
    expect(failed.message).toMatch(/^ls \/nonexistent-dpl-path failed \(exit 2\): ls: cannot access/);
    expect(failed.message.endsWith("\n")).toBe(false);
  });

  it("kills a command that outlives its timeout", async () => {
    const started = Date.now();
    await expect(runCommand("sleep", ["30"], { timeoutMs: 200 })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    // Room for a busy machine; a sleep left running would take its full 30 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("runs a secret argument with its value and shows it nowhere in the error", async () => {
    const secret = new SecretArgument("Chap-Secret-0042");
    // The program echoes its argument to both streams, as a chatty tool might.
    expect((await runCommand("sh", ["-c", "printf %s \"$0\"", secret])).stdout).toBe("Chap-Secret-0042");
    const error = await runCommand("sh", ["-c", "echo \"bad $0\" >&2; echo \"out $0\"; exit 3", secret]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandFailedError);
    const failed = error as CommandFailedError;
    for (const text of [failed.message, failed.command, failed.stderr, failed.stdout, String(failed.stack)]) {
      expect(text).not.toContain("Chap-Secret-0042");
    }
    expect(failed.message).toContain(`bad ${REDACTED}`);
    expect(failed.stdout).toBe(`out ${REDACTED}\n`);
    expect(describeCommand("tgtadm", ["--password", secret])).toBe(`tgtadm --password ${REDACTED}`);
    expect(JSON.stringify({ args: ["--password", secret] })).not.toContain("Chap-Secret-0042");
    expect(inspect(secret)).not.toContain("Chap-Secret-0042");
  });

  it("names a missing binary", async () => {
    await expect(runCommand("dpl-no-such-binary", [])).rejects.toBeInstanceOf(CommandNotFoundError);
  });
});

describe("DaemonProcess", () => {
  it("keeps the output of a daemon that exits and reports its exit", async () => {
    const daemon = await DaemonProcess.start("sh", ["-c", "echo started; echo failing >&2; exit 3"]);
    expect(await daemon.exited).toEqual({ code: 3, signal: null });
    expect(daemon.running).toBe(false);
    expect(daemon.output).toContain("failing");
  });

  it("writes a daemon's output to its log file", async () => {
    const logFile = path.join(await mkdtemp(path.join(tmpdir(), "dpl-daemon-")), "daemon.log");
    const daemon = await DaemonProcess.start("sh", ["-c", "echo to-the-log"], { logFile });
    await daemon.exited;
    expect(await readFile(logFile, "utf8")).toBe("to-the-log\n");
    expect(daemon.output).toBe("to-the-log");
    await rm(path.dirname(logFile), { recursive: true });
  });

  it("kills a daemon that does not exit by itself", async () => {
    const daemon = await DaemonProcess.start("sleep", ["30"]);
    expect(await daemon.waitForExit(100)).toBe(false);
    daemon.kill();
    expect(await daemon.waitForExit(5000)).toBe(true);
  });

  it("rejects a missing binary", async () => {
    await expect(DaemonProcess.start("dpl-no-such-daemon", [])).rejects.toBeInstanceOf(CommandNotFoundError);
  });
});
