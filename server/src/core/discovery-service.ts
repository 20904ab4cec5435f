/**
 * Discovery: what on this host can become storage. Only the block devices on the operator's
 * allow-list are ever shown (a client never sees or picks arbitrary host devices), each with
 * what the kernel says of it and the pool that holds it, if any.
 */
import type { CoreContext } from "./context";
import type { BlockDeviceCatalog, BlockDeviceFacts } from "./ports";

export interface DiskView {
  path: string;
  /** undefined when no block device is at the path now. */
  facts: BlockDeviceFacts | undefined;
  poolId: string | null;
}

export class DiscoveryService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly catalog: BlockDeviceCatalog,
  ) {}

  async disks(): Promise<DiskView[]> {
    const pools = this.ctx.store.listPools();
    const views: DiskView[] = [];
    for (const path of this.ctx.settings.allowedBlockDevices) {
      const owner = pools.find((pool) => pool.devices.some((device) => device.path === path));
      views.push({ path, facts: await this.catalog.describe(path), poolId: owner?.id ?? null });
    }
    return views;
  }
}
