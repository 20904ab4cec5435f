// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
import type * as pulumi from "@pulumi/pulumi";

/**
 * How the DPL server reaches the Ceph cluster of an rbd pool; both files must be on the server's
 * --allow-ceph-file list.
 */
export interface CephConnectionArgs {
  /**
   * ceph.conf of the cluster on the DPL server (it names the monitors and, for tgtd's rbd store, the client's
   * keyring).
   */
  configPath: pulumi.Input<string>;
  /** Keyring of the cephx user on the DPL server, with rbd caps on the RBD pool. */
  keyringPath: pulumi.Input<string>;
  /** The cephx user without "client." (default "admin"). */
  clientId?: pulumi.Input<string>;
  /** The Ceph pool the volumes' RBD images go to (it must exist and be initialised with `rbd pool init`). */
  rbdPool: pulumi.Input<string>;
}

/** CHAP credentials (RFC 3720): the secret must be 12 to 16 printable characters. */
export interface ChapArgs {
  /** The CHAP user name. */
  username: pulumi.Input<string>;
  /** 12 to 16 printable characters; write-only: no reply carries it. */
  secret: pulumi.Input<string>;
}

/** A DPL server other than the provider's own: its URL, a user and password, and the certificate to trust. */
export interface DplServerArgs {
  /** The server's URL. */
  url: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  /** PEM of the server's certificate (or its CA); absent: the system's CAs. */
  caCertificate?: pulumi.Input<string>;
}

/** What a host needs to attach the exported LUN. */
export interface ISCSIConnectionInfo {
  /** First portal, "host:port". */
  portal: string;
  targetIqn: string;
  lun: number;
  /** `iscsi://portal/iqn/lun`, for libiscsi tools (qemu-img, qemu-io, iscsi-ls). */
  iscsiUrl: string;
  /** `--image-opts` for qemu-img/qemu-io, with the first initiator's name (and a CHAP placeholder). */
  qemuImageOpts: string;
  /** A qemu-img command that reads the LUN's header. */
  qemuImgCommand: string;
  /** open-iscsi discovery and login commands for a Linux host. */
  iscsiadmCommands: string;
  /** The portal's host. */
  host: string;
}

/** Where the image comes from: exactly one of `path` and `url`. */
export interface ImageSourceArgs {
  /**
   * A file on the DPL server, inside one of its image directories (see `dpl-server serve --image-dir`, and
   * each pool's `images/`).
   */
  path?: pulumi.Input<string>;
  /** An http(s) URL the server fetches (zero blocks are written as holes). */
  url?: pulumi.Input<string>;
  /** "raw" or "qcow2". */
  format: pulumi.Input<"raw" | "qcow2">;
}

/** One device of a pool: an image file the server makes (by size) or a block device on the server. */
export interface PoolDeviceArgs {
  /** Size of an image file in bytes (at least 128 MiB). */
  sizeBytes?: pulumi.Input<number>;
  /** Size of an image file in GiB (the server creates it under its state directory; at least 0.125). */
  sizeGib?: pulumi.Input<number>;
  /** A block device path on the server, e.g. "/dev/sdb" (must be on the server's allow-list). */
  path?: pulumi.Input<string>;
}

/** Health of one device of a pool, as btrfs reports it. */
export interface PoolDeviceHealth {
  /** The server's id of the device. */
  deviceId: string;
  type: "image_file" | "block_device";
  /** Image file or block device path on the server. */
  path: string;
  sizeBytes: number;
  /** "Online", "Missing", or "Unknown" when the pool is not mounted. */
  state: string;
  /** btrfs's cumulative per-device error counters (`btrfs device stats`). */
  errors: { read: number; write: number; flush: number; corruption: number; generation: number };
}

/** The user and password the source server logs in to the target server with. */
export interface ReplicationCredentialsArgs {
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
}
