import { classifyVolgroupPut, DPL_ROUTES } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import { groupSnapshotReply, listReply, volgroupReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, replyToEventPoll, replyToJob } from "../route-kit";
import { serve } from "../wire-route-registration";
import { membershipChange, newVolumeGroup } from "../commands/object-commands";
import { newSnapshot } from "../commands/volume-commands";
import { perform } from "../commands/wire-command";

const PARENT = "/dpl_volgroup";

export function volgroupRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    serve(app, DPL_ROUTES.volumeGroups, "get", () =>
      listReply(PARENT, core.volumeGroups.list().map((g) => [g.id, g.name ?? g.id] as [string, string])));

    serve(app, DPL_ROUTES.volumeGroup, "get", async (request, reply) => {
      const id = hexParam(request, "group");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) {
        return replyToEventPoll(core, request, reply, id, eventId, PARENT, () =>
          core.volumeGroups.find(id) === undefined ? undefined : volgroupReply(core.volumeGroups.view(id)));
      }
      return volgroupReply(core.volumeGroups.view(id));
    });

    serve(app, DPL_ROUTES.volumeGroup, "put", async (request, reply) => {
      const id = hexParam(request, "group");
      const put = classifyVolgroupPut(request.body);
      if (put === undefined) throw new DomainError("UNKNOWN_OPERATION", "the body names no volume group operation (metadata for create/join/leave, snapshot for a group snapshot)");
      switch (put.op) {
        case "create":
          return volgroupReply(await perform(newVolumeGroup(parseBody(put.schema, request.body)), (c) => core.volumeGroups.create(id, c)));
        case "membership":
          return volgroupReply(await perform(membershipChange(parseBody(put.schema, request.body)), (c) => core.volumeGroups.membership(id, c)));
        case "snapshot": {
          const wanted = newSnapshot(parseBody(put.schema, request.body));
          const job = await perform(wanted, (c) => core.volumeGroups.createSnapshot(id, c));
          return replyToJob(core, request, reply, job, {
            objectId: id, parentURI: PARENT, finishedStatus: 201,
            finalReply: () => {
              const snapshot = core.volumeGroups.findSnapshot(wanted.command.snapshotId);
              return snapshot === undefined ? undefined : groupSnapshotReply(snapshot);
            },
          });
        }
      }
    });

    // The historical client accepts only 204 or 404 here.
    serve(app, DPL_ROUTES.volumeGroup, "delete", async (request, reply) => {
      await core.volumeGroups.delete(hexParam(request, "group"));
      return reply.code(204).send();
    });

    serve(app, DPL_ROUTES.groupSnapshots, "get", (request) => {
      const id = hexParam(request, "group");
      return listReply(`${PARENT}/${id}/cdmi_snapshots`, core.volumeGroups.listSnapshots(id).map((s) => [s.id, s.name ?? s.id] as [string, string]));
    });

    serve(app, DPL_ROUTES.groupSnapshot, "get", (request) =>
      groupSnapshotReply(core.volumeGroups.getSnapshot(hexParam(request, "group"), hexParam(request, "snapshot"))));

    serve(app, DPL_ROUTES.groupSnapshot, "delete", async (request, reply) => {
      const id = hexParam(request, "group");
      const job = await core.volumeGroups.deleteSnapshot(id, hexParam(request, "snapshot"));
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });
    done();
  };
}
