/**
 * Images in and out of DPL. The server downloads the image itself (zero blocks become holes, so a
 * sparse image stays sparse), exports a snapshot as qcow2 (only allocated clusters: the file to
 * download) and as raw in the pool's own image directory (a reflink: no data copied), and a second
 * volume is made from that raw file, again by reflink.
 *
 *   pulumi config set imageUrl https://example.org/images/base.qcow2
 *   pulumi up
 *   curl --cacert ca.pem -u admin:$PW -o base.qcow2 "$DPL_ENDPOINT$(pulumi stack output downloadQcow2)"
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

export = async () => {
  const config = new pulumi.Config();
  const pool = await dpl.getPool();

  const base = new dpl.VolumeFromImage("base-os", {
    pool,
    image: { url: config.require("imageUrl"), format: config.get("imageFormat") === "raw" ? "raw" : "qcow2" },
    name: "base-os",
  });
  const release = new dpl.Snapshot("base-os-release", { volume: base, name: "release" });

  const qcow2 = new dpl.ImageExport("base-os-qcow2", { volume: base, snapshot: release, format: "qcow2" });
  const raw = new dpl.ImageExport("base-os-raw", { volume: base, snapshot: release, format: "raw" });

  // From the raw export, larger than the image: same btrfs filesystem, so the data is shared.
  const worker = new dpl.VolumeFromImage("worker", { pool, image: { path: raw.path, format: "raw" }, sizeGib: 1, name: "worker" });

  return {
    baseVolume: base.volumeId,
    baseSizeBytes: base.sizeBytes,
    baseUsedBytes: base.usedBytes,
    qcow2Path: qcow2.path,
    qcow2FileBytes: qcow2.fileBytes,
    downloadQcow2: qcow2.contentUri,
    rawPath: raw.path,
    worker: worker.volumeId,
    workerSizeBytes: worker.sizeBytes,
  };
};
