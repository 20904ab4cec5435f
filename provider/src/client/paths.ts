/** Where each DPL object lives, as the client addresses it (dpl-protocol §2.2). */
export const paths = {
  system: "/v1/dpl_system/",
  disks: "/v1/dpl_disk/",
  pools: "/v1/dpl_pool/",
  pool: (id: string) => `/v1/dpl_pool/${id}/`,
  volumes: "/v1/dpl_volume/",
  volume: (id: string) => `/v1/dpl_volume/${id}/`,
  snapshots: (vol: string) => `/v1/dpl_volume/${vol}/cdmi_snapshots/`,
  snapshot: (vol: string, snap: string) => `/v1/dpl_volume/${vol}/cdmi_snapshots/${snap}/`,
  targets: (type: "target" | "initiator") => `/v1/dpl_export/?type=${type}`,
  target: (id: string) => `/v1/dpl_export/${id}/`,
  // The protocol's plain group calls have no /v1; its group-snapshot calls do (dpl-protocol §2.2).
  volumeGroup: (id: string) => `/dpl_volgroup/${id}/`,
  volumeGroupV1: (id: string) => `/v1/dpl_volgroup/${id}/`,
  groupSnapshot: (vg: string, snap: string) => `/v1/dpl_volgroup/${vg}/cdmi_snapshots/${snap}/`,
  poolStats: (id: string) => `/v1/dpl_pool/${id}/stats/`,
  volumeStats: (id: string) => `/v1/dpl_volume/${id}/stats/`,
  images: "/v1/dpl_image/",
  image: (id: string) => `/v1/dpl_image/${id}/`,
} as const;
