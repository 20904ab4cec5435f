import { PoolCreateBody, PoolDeleteBody } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import type { DplCore } from "../../core/dpl-core";
import { listReply, poolReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, replyToEventPoll, replyToJob } from "../route-kit";

const PARENT = "/dpl_pool";

export function poolRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    const poolObject = async (id: string): Promise<Record<string, unknown> | undefined> => {
      if (core.ctx.store.getPool(id) === undefined) return undefined;
      return poolReply(await core.pools.view(id), core.ctx.settings);
    };

    app.get("/dpl_pool/", () => listReply(PARENT, core.pools.list().map((p) => [p.id, p.name] as [string, string])));

    app.get("/dpl_pool/:pool/", async (request, reply) => {
      const id = hexParam(request, "pool");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) return replyToEventPoll(core, request, reply, id, eventId, PARENT, () => poolObject(id));
      return poolReply(await core.pools.view(id), core.ctx.settings);
    });

    app.put("/dpl_pool/:pool/", async (request, reply) => {
      const id = hexParam(request, "pool");
      const job = await core.pools.create(id, parseBody(PoolCreateBody, request.body));
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 201, finalReply: () => poolObject(id) });
    });

    app.delete("/dpl_pool/:pool/", async (request, reply) => {
      const id = hexParam(request, "pool");
      const body = parseBody(PoolDeleteBody, request.body ?? {});
      const job = await core.pools.delete(id, body.metadata?.force === true);
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });
    done();
  };
}
