/**
 * Both engines as the server uses them: a btrfs volume exported by tgtd. Rollback must reach an
 * initiator through the LUN tgtd already holds open, and a resize through refreshLunSize.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PoolDeviceRecord, TargetSpec } from "../core/ports";
import { BtrfsPoolEngine } from "./btrfs/btrfs-pool-engine";
import { BtrfsVolumeEngine } from "./btrfs/btrfs-volume-engine";
import { runCommand } from "./command";
import { TgtTargetEngine } from "./tgt/tgt-target-engine";

const MiB = 2 ** 20;
const INITIATOR = "iqn.2026-01.test.dpl:host";

let stateDir: string;
let pools: BtrfsPoolEngine;
let volumeEngine: BtrfsVolumeEngine;
let targets: TgtTargetEngine;
let devices: PoolDeviceRecord[] = [];
let portal: number;
let spec: TargetSpec;

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === "object" && address ? address.port : 0);
      });
    });
  });
}

function unusedControlPort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!existsSync(`/var/run/tgtd/socket.${port}`)) return port;
  }
}

async function qemuIo(commands: string[]): Promise<string> {
  const options = `driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:${portal},file.target=${spec.iqn},file.lun=1,file.initiator-name=${INITIATOR}`;
  const { stdout, stderr } = await runCommand("qemu-io", ["--image-opts", ...commands.flatMap((command) => ["-c", command]), options], { timeoutMs: 30_000 });
  if (/Pattern verification failed|failed:/i.test(stdout + stderr)) throw new Error(`qemu-io: ${stdout}${stderr}`);
  return stdout;
}

beforeAll(async () => {
  const workRoot = path.resolve(__dirname, "../../../.work");
  await runCommand("mkdir", ["-p", workRoot]);
  stateDir = await mkdtemp(path.join(workRoot, "engines-together-"));
  pools = new BtrfsPoolEngine({ stateDir });
  volumeEngine = new BtrfsVolumeEngine({ stateDir });
  portal = await freeTcpPort();
  targets = new TgtTargetEngine({ controlPort: unusedControlPort(), portal: { host: "127.0.0.1", port: portal } });
  devices = await pools.createPool("p", "single", "zstd", [{ type: "image_file", size: 512 * MiB }]);
  await volumeEngine.createVolume("p", "v", 64 * MiB, true, "none");
  await targets.start();
  spec = { iqn: "iqn.2026-01.test.dpl:v", tid: 1, lun: 1, backingPath: volumeEngine.volumeDataPath("p", "v"), cacheMode: "direct", initiators: [INITIATOR] };
  await targets.applyTarget(spec);
});

afterAll(async () => {
  await targets.stop().catch(() => undefined);
  await pools.destroyPool("p", devices).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

it("rolls an exported volume back as the server does: LUN closed, swapped, LUN back, the session kept", async () => {
  await qemuIo(["write -P 0x11 0 4M"]);
  await volumeEngine.createSnapshot("p", "v", "s");
  await qemuIo(["write -P 0x22 0 4M", "read -P 0x22 0 4M"]);
  await targets.closeLun(spec.tid, spec.lun);
  await volumeEngine.rollbackVolume("p", "v", "s", "swap");
  await targets.applyTarget(spec);
  await qemuIo(["read -P 0x11 0 4M"]);
  await expect(qemuIo(["read -P 0x22 0 4M"])).rejects.toThrow(/Pattern verification failed/);
});

it("rolls back in place under tgtd's open LUN (the engine's other mode)", async () => {
  await volumeEngine.createSnapshot("p", "v", "s2");
  await qemuIo(["write -P 0x44 0 4M"]);
  await volumeEngine.rollbackVolume("p", "v", "s2", "in-place");
  // No re-apply: tgtd's file descriptor is the same inode, now holding the snapshot's extents.
  await qemuIo(["read -P 0x11 0 4M"]);
});

it("grows an exported volume and shows the new size after refreshLunSize", async () => {
  await volumeEngine.resizeVolume("p", "v", 128 * MiB, true);
  await targets.refreshLunSize(spec);
  const { stdout } = await runCommand("iscsi-readcapacity16", ["-i", INITIATOR, `iscsi://127.0.0.1:${portal}/${spec.iqn}/1`]);
  const lba = Number(/RETURNED LOGICAL BLOCK ADDRESS:(\d+)/.exec(stdout)?.[1]);
  expect((lba + 1) * 512).toBe(128 * MiB);
  await qemuIo(["read -P 0x11 0 4M", "write -P 0x33 100M 1M", "read -P 0x33 100M 1M"]);
});
