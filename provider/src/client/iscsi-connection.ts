import type { VolumeReply } from "../wire";

/** What an initiator needs to log in to a volume's LUN. */
export interface IscsiConnection {
  targetIqn: string;
  /** Every portal the server lists; `portal` is the first. */
  portals: string[];
  portal: string;
  lun: number;
  initiator: string;
  /** CHAP user names in use (secrets are never returned by the server). */
  chapUsername?: string | undefined;
  mutualChapUsername?: string | undefined;
}

/**
 * The export entry of `volume` that lets `initiator` in, or undefined. IQNs compare
 * case-insensitively (RFC 3722), unlike the historical client (D22).
 */
export function iscsiConnectionOf(volume: VolumeReply, initiator: string): IscsiConnection | undefined {
  const wanted = initiator.toLowerCase();
  for (const entry of volume.exports["Network/iSCSI"] ?? []) {
    for (const permission of entry.permissions) {
      for (const [iqn, lun] of Object.entries(permission)) {
        if (iqn.toLowerCase() !== wanted) continue;
        const portal = entry.portals[0];
        if (portal === undefined) return undefined;
        return {
          targetIqn: entry.target_identifier,
          portals: entry.portals,
          portal,
          lun,
          initiator: iqn,
          chapUsername: entry.authentication.username,
          mutualChapUsername: entry.authentication.mutual_username,
        };
      }
    }
  }
  return undefined;
}

/** Builds an `iscsi://` URL for libiscsi tools (qemu-img, qemu-io, iscsi-ls); IPv6 portals keep their brackets. */
export function iscsiUrl(connection: Pick<IscsiConnection, "portal" | "targetIqn" | "lun">): string {
  return `iscsi://${connection.portal}/${connection.targetIqn}/${connection.lun}`;
}
