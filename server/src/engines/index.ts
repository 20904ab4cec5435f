export { InvalidPoolRequestError, VolumeNotFoundError } from "./btrfs/btrfs-layout";
export { BtrfsPoolEngine, type BtrfsPoolEngineOptions } from "./btrfs/btrfs-pool-engine";
export { BtrfsVolumeEngine } from "./btrfs/btrfs-volume-engine";
export { routePoolEngine, routeVolumeEngine, type BackendOf } from "./pool-backend-router";
export { RbdPoolEngine } from "./rbd/rbd-pool-engine";
export { RbdVolumeEngine } from "./rbd/rbd-volume-engine";
export type { RbdPoolDirectory } from "./rbd/rbd-images";
export { SysfsBlockDeviceCatalog } from "./sysfs/block-device-catalog";
export { TgtTargetEngine, TgtdStartError, type TgtTargetEngineOptions } from "./tgt/tgt-target-engine";
export {
  CommandError,
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  DaemonProcess,
  DEFAULT_COMMAND_TIMEOUT_MS,
  runCommand,
  type CommandResult,
  type RunOptions,
} from "./command";
