import { classifyVolumePut, DPL_ROUTES, VolumeDeleteBody } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import type { StartedJob } from "../../core/jobs";
import { withVolumeCompression } from "../maintenance-replies";
import { ioStatsReply, listReply, snapshotReply, volumeReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, replyToEventPoll, replyToJob } from "../route-kit";
import { serve } from "../wire-route-registration";
import { exportGrant, exportRevocation } from "../commands/export-commands";
import {
  clonedVolume, newSnapshot, newVolume, rollbackTo, spawnedVolume, volumeChanges, volumeFromImage, volumeFromSnapshot,
} from "../commands/volume-commands";
import { perform } from "../commands/wire-command";

const PARENT = "/dpl_volume";

export function volumeRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    const volumeObject = async (id: string): Promise<Record<string, unknown> | undefined> => {
      if (core.volumes.find(id) === undefined) return undefined;
      return withVolumeCompression(volumeReply(await core.volumes.view(id), core.exportService.get(id), core.settings), core);
    };

    serve(app, DPL_ROUTES.volumes, "get", () =>
      listReply(PARENT, core.volumes.listNames().map((v) => [v.id, v.name] as [string, string])));

    serve(app, DPL_ROUTES.volume, "get", async (request, reply) => {
      const id = hexParam(request, "volume");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) return replyToEventPoll(core, request, reply, id, eventId, PARENT, () => volumeObject(id));
      const object = await volumeObject(id);
      if (object === undefined) throw new DomainError("NOT_FOUND", `volume ${id} does not exist`);
      return object;
    });

    serve(app, DPL_ROUTES.volume, "put", async (request, reply) => {
      const id = hexParam(request, "volume");
      const put = classifyVolumePut(request.body);
      if (put === undefined) {
        throw new DomainError("UNKNOWN_OPERATION",
          "the body names no volume operation (create needs metadata.pool_uuid; snapshot, copy, export_operation or snapshot_operation select the others)");
      }
      let job: StartedJob;
      let finishedStatus: 200 | 201 = 200;
      let finalReply = (): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined> => volumeObject(id);
      switch (put.op) {
        case "create":
          job = await perform(newVolume(parseBody(put.schema, request.body)), (c) => core.volumes.create(id, c));
          finishedStatus = 201;
          break;
        case "modify":
          job = await perform(volumeChanges(parseBody(put.schema, request.body)), (c) => core.volumes.modify(id, c));
          break;
        case "copy":
          job = await perform(volumeFromSnapshot(parseBody(put.schema, request.body)), (c) => core.volumes.copyFromSnapshot(id, c));
          finishedStatus = 201;
          break;
        case "spawn":
          job = await perform(spawnedVolume(parseBody(put.schema, request.body)), (c) => core.volumes.spawn(id, c));
          finishedStatus = 201;
          break;
        case "clone":
          job = await perform(clonedVolume(parseBody(put.schema, request.body)), (c) => core.volumes.clone(id, c));
          finishedStatus = 201;
          break;
        case "snapshot": {
          const wanted = newSnapshot(parseBody(put.schema, request.body));
          job = await perform(wanted, (c) => core.volumes.createSnapshot(id, c));
          finishedStatus = 201;
          finalReply = () => {
            const snapshot = core.volumes.findSnapshot(wanted.command.snapshotId);
            return snapshot === undefined ? undefined : snapshotReply(snapshot);
          };
          break;
        }
        case "import":
          job = await perform(volumeFromImage(parseBody(put.schema, request.body)), (c) => core.images.importVolume(id, c));
          finishedStatus = 201;
          break;
        case "rollback":
          job = await perform(rollbackTo(parseBody(put.schema, request.body)), (c) => core.volumes.rollback(id, c));
          break;
        case "assign":
          job = await perform(exportGrant(parseBody(put.schema, request.body)), (c) => core.exportService.assign(id, c));
          break;
        case "unassign":
          job = await perform(exportRevocation(parseBody(put.schema, request.body)), (c) => core.exportService.unassign(id, c));
          break;
      }
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus, finalReply });
    });

    serve(app, DPL_ROUTES.volume, "delete", async (request, reply) => {
      const id = hexParam(request, "volume");
      const body = parseBody(VolumeDeleteBody, request.body ?? {});
      const job = await core.volumes.delete(id, body.metadata?.force === true);
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });

    serve(app, DPL_ROUTES.volumeStats, "get", async (request) => ioStatsReply(await core.ioStats.volume(hexParam(request, "volume"))));

    serve(app, DPL_ROUTES.snapshots, "get", (request) => {
      const id = hexParam(request, "volume");
      return listReply(`${PARENT}/${id}/cdmi_snapshots`, core.volumes.listSnapshots(id).map((s) => [s.id, s.name] as [string, string]));
    });

    serve(app, DPL_ROUTES.snapshot, "get", (request) => {
      const id = hexParam(request, "volume");
      const snapshotId = hexParam(request, "snapshot");
      return snapshotReply(core.volumes.getSnapshot(id, snapshotId));
    });

    serve(app, DPL_ROUTES.snapshot, "delete", async (request, reply) => {
      const id = hexParam(request, "volume");
      const snapshotId = hexParam(request, "snapshot");
      const job = await core.volumes.deleteSnapshot(id, snapshotId);
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });
    done();
  };
}
