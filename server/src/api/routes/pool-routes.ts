import { classifyPoolPut, DPL_ROUTES, PoolDeleteBody } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import { withPoolMaintenance } from "../maintenance-replies";
import { ioStatsReply, listReply, poolReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, replyToEventPoll, replyToJob } from "../route-kit";
import { serve } from "../wire-route-registration";
import { deviceChange, maintenanceIntervals, newPool, poolSettingsChange } from "../commands/pool-commands";
import { perform } from "../commands/wire-command";

const PARENT = "/dpl_pool";

export function poolRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    const poolObject = async (id: string): Promise<Record<string, unknown> | undefined> => {
      if (core.pools.find(id) === undefined) return undefined;
      return withPoolMaintenance(poolReply(await core.pools.view(id), core.settings), core);
    };

    serve(app, DPL_ROUTES.pools, "get", () => listReply(PARENT, core.pools.list().map((p) => [p.id, p.name] as [string, string])));

    serve(app, DPL_ROUTES.pool, "get", async (request, reply) => {
      const id = hexParam(request, "pool");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) return replyToEventPoll(core, request, reply, id, eventId, PARENT, () => poolObject(id));
      return withPoolMaintenance(poolReply(await core.pools.view(id), core.settings), core);
    });

    serve(app, DPL_ROUTES.poolStats, "get", async (request) => ioStatsReply(await core.ioStats.pool(hexParam(request, "pool"))));

    serve(app, DPL_ROUTES.pool, "put", async (request, reply) => {
      const id = hexParam(request, "pool");
      const put = classifyPoolPut(request.body);
      if (put.op === "operation") {
        const { pool_operation: operation } = parseBody(put.schema, request.body).metadata;
        if (core.maintenance === undefined) throw new DomainError("UNSUPPORTED", `this server has no pool maintenance engine; ${operation} is unavailable`, "metadata.pool_operation");
        const job = await core.maintenance.start(id, operation);
        return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => poolObject(id) });
      }
      if (put.op === "schedule") {
        const { maintenance_schedule: schedule } = parseBody(put.schema, request.body).metadata;
        if (core.maintenance === undefined) throw new DomainError("UNSUPPORTED", "this server has no pool maintenance engine; scheduling is unavailable", "metadata.maintenance_schedule");
        const job = await core.maintenance.setSchedule(id, maintenanceIntervals(schedule));
        return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => poolObject(id) });
      }
      if (put.op === "settings") {
        const change = poolSettingsChange(parseBody(put.schema, request.body).metadata.pool_settings);
        const job = await perform(change, (c) => core.pools.changeSettings(id, c));
        return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => poolObject(id) });
      }
      if (put.op === "devices") {
        const job = await perform(deviceChange(parseBody(put.schema, request.body).metadata), (c) => core.poolDevices.change(id, c));
        return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => poolObject(id) });
      }
      const body = parseBody(put.schema, request.body);
      if (body.metadata.maintenance_schedule !== undefined && core.maintenance === undefined) {
        throw new DomainError("UNSUPPORTED", "this server has no pool maintenance engine; scheduling is unavailable", "metadata.maintenance_schedule");
      }
      const job = await perform(newPool(body), (c) => core.pools.create(id, c));
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 201, finalReply: () => poolObject(id) });
    });

    serve(app, DPL_ROUTES.pool, "delete", async (request, reply) => {
      const id = hexParam(request, "pool");
      const body = parseBody(PoolDeleteBody, request.body ?? {});
      const job = await core.pools.delete(id, body.metadata?.force === true);
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });
    done();
  };
}
