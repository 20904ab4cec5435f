/** The server's domain: one object wiring the services over a store and two engines. */
import type { CoreContext, CoreSettings } from "./context";
import { ExportService } from "./export-service";
import { IoStatsService } from "./io-stats-service";
import { ImageService } from "./image-service";
import { JobRunner } from "./jobs";
import type { MetadataStore } from "./metadata-store";
import { EventRetention } from "./event-retention";
import { MaintenanceScheduler } from "./maintenance-scheduler";
import { PoolDeviceService } from "./pool-device-service";
import { PoolMaintenanceService } from "./pool-maintenance-service";
import { PoolService } from "./pool-service";
import { DiscoveryService } from "./discovery-service";
import type { BlockDeviceCatalog, ImageEngine, PoolEngine, PoolMaintenanceEngine, TargetEngine, VolumeEngine } from "./ports";
import { reconcile, type ReconcileReport } from "./reconciler";
import { ReplicaService } from "./replica-service";
import type { PeerLink, ReplicationEngine } from "./replication-ports";
import { ReplicationScheduler } from "./replication-scheduler";
import { ReplicationService } from "./replication-service";
import { TargetService } from "./target-service";
import { TargetWatchdog } from "./target-watchdog";
import { VolumeGroupService } from "./volgroup-service";
import { VolumeService } from "./volume-service";

export class DplCore {
  private readonly ctx: CoreContext;
  readonly pools: PoolService;
  readonly poolDevices: PoolDeviceService;
  readonly exportService: ExportService;
  readonly volumes: VolumeService;
  readonly images: ImageService;
  readonly volumeGroups: VolumeGroupService;
  readonly targets: TargetService;
  readonly watchdog: TargetWatchdog;
  readonly ioStats: IoStatsService;
  readonly discovery: DiscoveryService;
  /** Absent when the server runs without a maintenance engine (scrub/dedupe then unsupported). */
  readonly maintenance: PoolMaintenanceService | undefined;
  /** Starts scheduled scrubs and dedupes; absent with the maintenance engine. */
  readonly scheduler: MaintenanceScheduler | undefined;
  lastReconcile: ReconcileReport | undefined;
  private readonly eventRetention: EventRetention;
  /** Absent when the server has no replication engine. */
  readonly replications: ReplicationService | undefined;
  private readonly replicationScheduler: ReplicationScheduler | undefined;

  constructor(deps: {
    store: MetadataStore; poolEngine: PoolEngine; volumeEngine: VolumeEngine; targetEngine: TargetEngine; settings: CoreSettings; log: (m: string) => void;
    deviceCatalog: BlockDeviceCatalog;
    maintenanceEngine?: PoolMaintenanceEngine;
    imageEngine?: ImageEngine;
    /** Both absent: the replication area answers UNSUPPORTED. */
    replication?: { engine: ReplicationEngine; link: PeerLink };
  }) {
    const jobs = new JobRunner(deps.store, deps.log, deps.settings.maxJobs);
    const { maintenanceEngine, deviceCatalog, replication, ...shared } = deps;
    this.ctx = { ...shared, jobs };
    this.discovery = new DiscoveryService(this.ctx, deviceCatalog);
    this.exportService = new ExportService(this.ctx);
    this.pools = new PoolService(this.ctx, this.exportService);
    this.poolDevices = new PoolDeviceService(this.ctx, this.pools);
    this.volumes = new VolumeService(this.ctx, this.pools, this.exportService);
    this.images = new ImageService(this.ctx, this.volumes);
    this.volumeGroups = new VolumeGroupService(this.ctx);
    this.targets = new TargetService(this.ctx);
    this.watchdog = new TargetWatchdog(this.ctx, this.exportService);
    this.ioStats = new IoStatsService(this.ctx);
    this.maintenance = maintenanceEngine === undefined ? undefined : new PoolMaintenanceService(this.ctx, this.pools, maintenanceEngine);
    this.scheduler = this.maintenance === undefined ? undefined : new MaintenanceScheduler(this.ctx, this.maintenance);
    this.eventRetention = new EventRetention(this.ctx);
    this.replications = replication === undefined
      ? undefined
      : new ReplicationService(this.ctx, new ReplicaService(this.ctx, this.pools, replication.engine), replication.engine, replication.link);
    this.replicationScheduler = this.replications === undefined ? undefined : new ReplicationScheduler(this.ctx, this.replications);
  }

  /** The server's settings, as replies show them (portals, vendor, version). */
  get settings(): Readonly<CoreSettings> {
    return this.ctx.settings;
  }

  get jobs(): JobRunner {
    return this.ctx.jobs;
  }

  async start(): Promise<ReconcileReport> {
    this.lastReconcile = await reconcile(this.ctx, this.exportService);
    this.watchdog.start();
    this.ioStats.start();
    this.scheduler?.start();
    this.replicationScheduler?.start();
    this.eventRetention.start();
    return this.lastReconcile;
  }

  /** Called when shutdown begins: requests waiting on events answer now. */
  beginShutdown(): void {
    this.scheduler?.halt();
    this.replicationScheduler?.halt();
    this.ctx.jobs.endWaits();
  }

  /** Lets running jobs finish, then releases every engine; data and records stay. */
  async stop(): Promise<void> {
    this.ioStats.stop();
    this.eventRetention.stop();
    await this.scheduler?.stop();
    await this.replicationScheduler?.stop();
    await this.watchdog.stop();
    await this.ctx.jobs.lock.idle();
    try {
      await this.ctx.targetEngine.stop();
    } catch (e) {
      this.ctx.log(`stopping tgtd: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const pool of this.ctx.store.listPools()) {
      try {
        await this.ctx.poolEngine.detachPool(pool.id, pool.devices);
      } catch (e) {
        this.ctx.log(`detaching pool ${pool.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.ctx.store.close();
  }
}
