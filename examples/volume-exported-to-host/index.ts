/**
 * A volume exported over iSCSI to one host, with CHAP. Set the host's IQN and the CHAP secret:
 *
 *   pulumi config set hostIqn iqn.1993-08.org.debian:01:myhost
 *   pulumi config set --secret chapSecret 'twelve+chars'
 *
 * Then attach from the host with the exported commands (open-iscsi) or the libiscsi URL.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();

export = async () => {
  const pool = await dpl.getPool({ name: config.get("poolName") ?? "default" });
  const hostIqn = config.require("hostIqn");

  const disk = new dpl.Volume("host-disk", { pool, sizeGib: config.getNumber("sizeGib") ?? 8, name: "host-disk" });
  const exported = new dpl.ISCSIExport("host-disk", {
    volume: disk,
    initiators: [hostIqn],
    chap: { username: "host-disk", secret: config.requireSecret("chapSecret") },
  });

  return {
    targetIqn: exported.targetIqn,
    portal: exported.connection.portal,
    lun: exported.lun,
    attach: exported.connection.iscsiadmCommands,
  };
};
