// A pool on one image file, a volume on it, a snapshot of the volume and an iSCSI export of it
// to one initiator, declared with the Go SDK generated from the package schema
// (sdk/go, `bash scripts/generate-native-sdks.sh`). Needs the native plugin installed
// (README, "The native provider") and the dpl:* stack config (endpoint, username, password).
package main

import (
	"github.com/prophetstor/pulumi-dpl/sdk/go/dpl"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		settings := config.New(ctx, "")
		initiator := settings.Get("initiator")
		if initiator == "" {
			initiator = "iqn.2026-01.com.example:go-host"
		}
		pool, err := dpl.NewPool(ctx, "go-pool", &dpl.PoolArgs{
			Name:         pulumi.String("go-pool"),
			Devices:      dpl.PoolDeviceArray{dpl.PoolDeviceArgs{SizeGib: pulumi.Float64(0.5)}},
			ForceDestroy: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		volume, err := dpl.NewVolume(ctx, "data", &dpl.VolumeArgs{
			Pool:    pool.PoolId,
			SizeGib: pulumi.Float64(0.125),
			Name:    pulumi.String("go-data"),
		})
		if err != nil {
			return err
		}
		snapshot, err := dpl.NewSnapshot(ctx, "first", &dpl.SnapshotArgs{Volume: volume.VolumeId, Name: pulumi.String("first")})
		if err != nil {
			return err
		}
		export, err := dpl.NewISCSIExport(ctx, "data", &dpl.ISCSIExportArgs{
			Volume:     volume.VolumeId,
			Initiators: pulumi.StringArray{pulumi.String(initiator)},
		})
		if err != nil {
			return err
		}
		ctx.Export("poolId", pool.PoolId)
		ctx.Export("volumeId", volume.VolumeId)
		ctx.Export("snapshotId", snapshot.SnapshotId)
		ctx.Export("targetIqn", export.TargetIqn)
		return nil
	})
}
