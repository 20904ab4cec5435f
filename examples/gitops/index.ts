/**
 * The storage of one application host, managed by the GitOps pipelines next to this file: every
 * change is a pull request (previewed, the plan posted as a comment), merged changes are applied,
 * and a scheduled job fails when someone changed the DPL server by hand.
 *
 *   pulumi config set hostIqn iqn.1993-08.org.debian:01:app1
 *   pulumi config set --secret chapSecret 'twelve+chars'
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();

export = async () => {
  const pool = await dpl.getPool({ name: config.get("poolName") ?? "default" });
  const data = new dpl.Volume("app-data", { pool, sizeGib: config.getNumber("sizeGib") ?? 4, name: "app-data", compression: "zstd" });
  const exported = new dpl.ISCSIExport("app-data", {
    volume: data,
    initiators: [config.require("hostIqn")],
    chap: { username: "app-data", secret: config.requireSecret("chapSecret") },
  });
  return { volumeId: data.volumeId, targetIqn: exported.targetIqn, portal: exported.connection.portal };
};
