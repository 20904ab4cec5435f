import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const settings = new pulumi.Config();
const dplConfig = new pulumi.Config("dpl");

export = async () => {
  // The pool: `dpl:poolId` when set, else the server's first pool (the embedded default pool).
  const poolId = dplConfig.get("poolId") ?? (await dpl.getPool()).poolId;
  const initiator = settings.get("initiator") ?? "iqn.2026-01.com.example:quickstart-host";

  const data = new dpl.Volume("data", {
    pool: poolId,
    sizeGib: settings.getNumber("sizeGib") ?? 1,
    name: "quickstart-data",
    description: "made by the dpl-quickstart Pulumi program",
  });

  const beforeChanges = new dpl.Snapshot("data-before-changes", {
    volume: data,
    name: "quickstart-data-before-changes",
  });

  const copy = new dpl.Clone("data-copy", {
    sourceVolume: data,
    sourceSnapshot: beforeChanges,
    name: "quickstart-data-copy",
  });

  const exported = new dpl.ISCSIExport("data", { volume: data, initiators: [initiator] });

  return {
    poolId,
    volumeId: data.volumeId,
    volumeSizeBytes: data.sizeBytes,
    snapshotId: beforeChanges.snapshotId,
    cloneId: copy.volumeId,
    initiator,
    portal: exported.connection.portal,
    targetIqn: exported.targetIqn,
    lun: exported.lun,
    iscsiUrl: exported.connection.iscsiUrl,
    attachWithQemu: exported.connection.qemuImgCommand,
    attachWithIscsiadm: exported.connection.iscsiadmCommands,
  };
};
