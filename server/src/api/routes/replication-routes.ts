import { classifyReplicationPut, DPL_ROUTES } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import type { Readable } from "node:stream";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import type { ReplicationService } from "../../core/replication-service";
import { newReplication, peerEndpoint, replicationChanges, syncCommit } from "../commands/replication-commands";
import { perform } from "../commands/wire-command";
import { REPLICATION_PARENT, replicationReply, transferReply } from "../replication-replies";
import { listReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, queryParam, replyToEventPoll, replyToJob } from "../route-kit";
import { serve } from "../wire-route-registration";

function replicationsOf(core: DplCore): ReplicationService {
  if (core.replications === undefined) throw new DomainError("UNSUPPORTED", "this server has no replication engine");
  return core.replications;
}

/** The raw request stream the octet-stream parser hands on (any other content type arrives parsed). */
function isReadable(value: unknown): value is Readable {
  return typeof value === "object" && value !== null && typeof (value as { pipe?: unknown }).pipe === "function";
}

function offsetOf(value: string | undefined): number {
  const offset = Number(value ?? "");
  if (!Number.isSafeInteger(offset) || offset < 0) throw new DomainError("INVALID_ARGUMENT", "offset must be a non-negative whole number of bytes", "offset");
  return offset;
}

export function replicationRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    const objectOf = (id: string): Record<string, unknown> | undefined =>
      core.replications?.list().some((r) => r.id === id) === true ? replicationReply(replicationsOf(core).view(id)) : undefined;

    serve(app, DPL_ROUTES.replications, "get", () =>
      listReply(REPLICATION_PARENT, (core.replications?.list() ?? []).map((r) => [r.id, r.name ?? r.id] as [string, string])));

    serve(app, DPL_ROUTES.replication, "get", async (request, reply) => {
      const id = hexParam(request, "replication");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) return replyToEventPoll(core, request, reply, id, eventId, REPLICATION_PARENT, () => objectOf(id));
      return replicationReply(replicationsOf(core).view(id));
    });

    serve(app, DPL_ROUTES.replication, "put", async (request, reply) => {
      const id = hexParam(request, "replication");
      const replications = replicationsOf(core);
      const put = classifyReplicationPut(request.body);
      if (put.op === "create") {
        const record = await perform(newReplication(parseBody(put.schema, request.body)), (c) => replications.create(id, c));
        return reply.code(201).send(replicationReply(replications.viewOf(record)));
      }
      if (put.op === "settings") {
        const record = await perform(replicationChanges(parseBody(put.schema, request.body)), (c) => replications.changeSettings(id, c));
        return replicationReply(replications.viewOf(record));
      }
      const operation = parseBody(put.schema, request.body).metadata;
      const jobReply = { objectId: id, parentURI: REPLICATION_PARENT, finishedStatus: 200 as const, finalReply: () => objectOf(id) };
      switch (operation.replication_operation) {
        case "sync":
          return replyToJob(core, request, reply, await replications.sync(id), jobReply);
        case "reverse":
          return replyToJob(core, request, reply,
            await perform({ command: peerEndpoint(operation.peer), fields: { peer: "metadata.peer" } }, (peer) => replications.reverse(id, peer)), jobReply);
        case "promote":
          return replicationReply(replications.viewOf(await replications.replicas.promote(id)));
        case "accept": {
          const announcement = { volumeIds: operation.volumes, volumeGroupId: operation.volume_group ?? null, poolId: operation.pool_uuid, name: operation.display_name ?? null };
          const accepted = await perform({ command: announcement, fields: { poolId: "metadata.pool_uuid", volumeIds: "metadata.volumes", volumeGroupId: "metadata.volume_group" } },
            (a) => replications.replicas.accept(id, a));
          return replicationReply(replications.viewOf(accepted));
        }
        case "demote": {
          const bases = operation.bases.map((b) => ({ volumeId: b.volume, snapshotId: b.snapshot }));
          const demoted = await perform({ command: bases, fields: { bases: "metadata.bases" } }, (b) => replications.replicas.demote(id, b));
          return replicationReply(replications.viewOf(demoted));
        }
        case "commit": {
          const committed = await perform({ command: syncCommit(operation), fields: { transfers: "metadata.transfers" } }, (c) => replications.replicas.commit(id, c));
          return replicationReply(replications.viewOf(committed));
        }
      }
    });

    serve(app, DPL_ROUTES.replication, "delete", async (request) => {
      const replications = replicationsOf(core);
      return replicationReply(replications.viewOf(await replications.delete(hexParam(request, "replication"))));
    });

    serve(app, DPL_ROUTES.replicationTransfer, "get", async (request) => {
      const snapshotId = hexParam(request, "snapshot");
      return transferReply(snapshotId, await replicationsOf(core).replicas.transferState(hexParam(request, "replication"), snapshotId));
    });

    serve(app, DPL_ROUTES.replicationTransfer, "put", async (request) => {
      const snapshotId = hexParam(request, "snapshot");
      const data: unknown = request.body;
      if (!isReadable(data)) {
        throw new DomainError("INVALID_ARGUMENT", "the body must be the stream's bytes, sent as application/octet-stream");
      }
      const state = await replicationsOf(core).replicas.append(hexParam(request, "replication"), snapshotId, offsetOf(queryParam(request, "offset")), data);
      return transferReply(snapshotId, state);
    });
    done();
  };
}
