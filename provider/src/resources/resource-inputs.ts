/**
 * The inputs each resource kind's check accepts, by kind: what the SDK must send. The SDK's
 * argument types are compared with these at compile time (sdk/src/args-match-provider.test.ts),
 * so a property added on one side and not the other fails the type check.
 */
import type { z } from "zod";
import type { CloneInputs } from "./clone";
import type { FcExportInputs } from "./fc-export";
import type { GroupSnapshotInputs } from "./group-snapshot";
import type { ImageExportInputs } from "./image-export";
import type { IscsiExportInputs } from "./iscsi-export";
import type { PoolInputs } from "./pool";
import type { RollbackInputs } from "./rollback";
import type { SnapshotInputs } from "./snapshot";
import type { VolumeInputs } from "./volume";
import type { VolumeFromImageInputs } from "./volume-from-image";
import type { VolumeGroupInputs } from "./volume-group";

export interface ResourceInputs {
  pool: z.input<typeof PoolInputs>;
  volume: z.input<typeof VolumeInputs>;
  snapshot: z.input<typeof SnapshotInputs>;
  clone: z.input<typeof CloneInputs>;
  iscsiExport: z.input<typeof IscsiExportInputs>;
  fcExport: z.input<typeof FcExportInputs>;
  rollback: z.input<typeof RollbackInputs>;
  volumeGroup: z.input<typeof VolumeGroupInputs>;
  groupSnapshot: z.input<typeof GroupSnapshotInputs>;
  volumeFromImage: z.input<typeof VolumeFromImageInputs>;
  imageExport: z.input<typeof ImageExportInputs>;
}
