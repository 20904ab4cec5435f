/**
 * The FCExport hook against the real server, which has no FC target engine: create must fail at
 * `up` with the server's own reason, after sending the protocol's FC assign body (LUN 0 included).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DplClient } from "../../provider/src/client";
import { RESOURCE_HOOKS } from "../../provider/src/resources/registry";
import { serverCapabilities } from "../../provider/src/resources/server-capabilities";
import { toHexId } from "../../provider/src/wire";
import { startServer, type RunningServer } from "../support/dpl-server";
import { pointHooksAt } from "../support/hook-environment";

const fcExportHooks = RESOURCE_HOOKS.fcExport;

const MiB = 2 ** 20;

let server: RunningServer;
let client: DplClient;
const teardown: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startServer({ embeddedPoolSize: "512MiB" });
  teardown.push(() => server.stop());
  client = new DplClient({ endpoint: server.url, password: server.password, ca: server.caPem });
  teardown.push(() => client.close());
  // The hooks read the server and credentials from the environment at run time, as in Pulumi.
  const restoreEnvironment = pointHooksAt(server);
  teardown.push(() => {
    restoreEnvironment();
    return Promise.resolve();
  });
});

afterAll(async () => {
  while (teardown.length > 0) await teardown.pop()?.();
});

describe("FCExport against a server without an FC target engine", () => {
  it("fails create with the server's reason, and leaves the volume unexported", async () => {
    const volume = toHexId(randomUUID());
    await client.createVolume(volume, { poolId: server.poolId, sizeBytes: 64 * MiB, name: "fc" });
    const inputs = { volume, targetWwpn: "5001438012345678", initiatorWwpns: ["10:00:00:00:c9:12:34:56"], lun: 0 };
    expect((await fcExportHooks.check({}, inputs)).failures).toBeUndefined();
    await expect(fcExportHooks.create(inputs)).rejects.toThrow(
      new RegExp(`FCExport of volume ${volume}: the DPL server at .* refused the Fibre Channel assignment: .*no FC target engine on this host`),
    );
    const reply = await client.getVolume(volume);
    expect(reply?.exports["Network/FC"] ?? []).toEqual([]);
    expect((await serverCapabilities(client)).protocols).toEqual(["iscsi"]);
  });

  it("reads an import id \"<volume id>/<target WWPN>\": no such FC export here, so nothing to import", async () => {
    const volume = toHexId(randomUUID());
    await client.createVolume(volume, { poolId: server.poolId, sizeBytes: 64 * MiB, name: "fc-import" });
    expect(await fcExportHooks.read(`${volume}/5001438012345678`, {})).toEqual({ id: "" });
    await expect(fcExportHooks.read(volume, {})).rejects.toThrow('import an FC export as "<volume id>/<target WWPN>"');
  });
});
