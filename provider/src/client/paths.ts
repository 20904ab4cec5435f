import { DPL_ROUTES as routes, pathOf } from "../wire";

/** Where each DPL object lives, as the client addresses it: URLs from the wire's route table (dpl-protocol §2.2). */
export const paths = {
  system: pathOf(routes.system),
  disks: pathOf(routes.disks),
  pools: pathOf(routes.pools),
  pool: (id: string) => pathOf(routes.pool, [id]),
  volumes: pathOf(routes.volumes),
  volume: (id: string) => pathOf(routes.volume, [id]),
  snapshots: (vol: string) => pathOf(routes.snapshots, [vol]),
  snapshot: (vol: string, snap: string) => pathOf(routes.snapshot, [vol, snap]),
  targets: (type: "target" | "initiator") => `${pathOf(routes.targets)}?type=${type}`,
  target: (id: string) => pathOf(routes.target, [id]),
  // The protocol's plain group calls have no /v1; its group-snapshot calls do (dpl-protocol §2.2).
  volumeGroup: (id: string) => pathOf(routes.volumeGroup, [id], { v1: false }),
  volumeGroupV1: (id: string) => pathOf(routes.volumeGroup, [id]),
  groupSnapshot: (vg: string, snap: string) => pathOf(routes.groupSnapshot, [vg, snap]),
  poolStats: (id: string) => pathOf(routes.poolStats, [id]),
  volumeStats: (id: string) => pathOf(routes.volumeStats, [id]),
  images: pathOf(routes.images),
  image: (id: string) => pathOf(routes.image, [id]),
  replications: pathOf(routes.replications),
  replication: (id: string) => pathOf(routes.replication, [id]),
} as const;
