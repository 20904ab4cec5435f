import { describe, expect, it } from "vitest";
import { configFromOptions, DEFAULT_LISTEN, isLoopbackHost, type ServeOptions } from "./config";

const base: ServeOptions = { stateDir: "/tmp/dpl-config-test", listen: DEFAULT_LISTEN, portal: "127.0.0.1:3260", tgtControlPort: "8357", eventRetention: "30d", maxJobs: "64", hostFreeFloor: "256MiB", imageDownloadTimeout: "6h" };

describe("server configuration", () => {
  it("listens on loopback unless told otherwise", () => {
    expect(configFromOptions(base).listenHost).toBe("127.0.0.1");
  });

  it("tells loopback addresses, in every spelling, from the others", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "example.com", "128.0.0.1"]) expect(isLoopbackHost(host), host).toBe(false);
  });

  it("reads the event retention as a duration, naming the flag when it is not one", () => {
    expect(configFromOptions({ ...base, eventRetention: "12h" }).eventRetentionMs).toBe(12 * 3_600_000);
    expect(configFromOptions({ ...base, eventRetention: "90m" }).eventRetentionMs).toBe(90 * 60_000);
    for (const bad of ["0d", "30", "1w", "-1d", ""]) expect(() => configFromOptions({ ...base, eventRetention: bad }), bad).toThrow(/--event-retention must be a duration/);
  });

  it("reads the host free-space floor as a size, naming the flag when it is not one", () => {
    expect(configFromOptions(base).hostFreeFloorBytes).toBe(256 * 2 ** 20);
    expect(configFromOptions({ ...base, hostFreeFloor: "1GiB" }).hostFreeFloorBytes).toBe(2 ** 30);
    expect(() => configFromOptions({ ...base, hostFreeFloor: "lots" })).toThrow(/^--host-free-floor: not a size/);
  });

  it("refuses --insecure-http on an address other hosts can reach, naming the flag", () => {
    expect(configFromOptions({ ...base, insecureHttp: true }).insecureHttp).toBe(true);
    expect(configFromOptions({ ...base, listen: "[::1]:0", insecureHttp: true }).listenHost).toBe("::1");
    for (const listen of ["0.0.0.0:8357", "[::]:8357", "10.1.2.3:8357"]) {
      expect(() => configFromOptions({ ...base, listen, insecureHttp: true })).toThrow(/--insecure-http is allowed only on a loopback --listen address/);
    }
    expect(configFromOptions({ ...base, listen: "0.0.0.0:8357" }).insecureHttp).toBe(false);
  });
});
