"""A pool on one image file, a volume on it, a snapshot of the volume and an iSCSI export of it
to one initiator, declared with the Python SDK generated from the package schema (sdk/python,
`bash scripts/generate-native-sdks.sh`). Needs the native plugin installed (README, "The native
provider"), `pip install ./sdk/python` and the dpl:* stack config (endpoint, username, password).
"""
import pulumi
import pulumi_dpl as dpl

config = pulumi.Config()
initiator = config.get("initiator") or "iqn.2026-01.com.example:python-host"

pool = dpl.Pool("py-pool", name="py-pool", devices=[dpl.PoolDeviceArgs(size_gib=0.5)], force_destroy=True)
volume = dpl.Volume("data", pool=pool.pool_id, size_gib=0.125, name="py-data")
snapshot = dpl.Snapshot("first", volume=volume.volume_id, name="first")
export = dpl.ISCSIExport("data", volume=volume.volume_id, initiators=[initiator])

pulumi.export("poolId", pool.pool_id)
pulumi.export("volumeId", volume.volume_id)
pulumi.export("snapshotId", snapshot.snapshot_id)
pulumi.export("targetIqn", export.target_iqn)
