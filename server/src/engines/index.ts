export { BtrfsPoolEngine, InvalidPoolRequestError, VolumeNotFoundError, type BtrfsPoolEngineOptions } from "./btrfs/btrfs-pool-engine";
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
