/**
 * Rollback is an action resource: creating it rolls the volume back; bumping the trigger
 * (`pulumi config set rollbackGeneration 2 && pulumi up`) rolls back again; removing it from the
 * program does nothing to the data.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dpl from "@prophetstor/pulumi-dpl";

const config = new pulumi.Config();

export = async () => {
  const pool = await dpl.getPool();
  const database = new dpl.Volume("database", { pool, sizeGib: 1, name: "database" });
  const knownGood = new dpl.Snapshot("database-known-good", { volume: database, name: "known-good" });

  const restore = new dpl.Rollback("restore-known-good", {
    volume: database,
    snapshot: knownGood,
    triggers: [config.getNumber("rollbackGeneration") ?? 1],
  });

  return { volume: database.volumeId, snapshot: knownGood.snapshotId, rolledBackAt: restore.rolledBackAt };
};
