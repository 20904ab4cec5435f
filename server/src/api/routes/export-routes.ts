import { DPL_ROUTES, SnsTableBody, TargetCreateBody } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import { envelope, listReply, targetReply } from "../replies";
import { hexParam, parseBody, queryParam } from "../route-kit";
import { serve } from "../wire-route-registration";
import { newTarget } from "../commands/object-commands";
import { perform } from "../commands/wire-command";

const PARENT = "/dpl_export";

export function exportRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    serve(app, DPL_ROUTES.targets, "get", (request) => {
      const type = queryParam(request, "type");
      if (type !== undefined && type !== "target" && type !== "initiator") {
        throw new DomainError("INVALID_ARGUMENT", "type must be target or initiator", "query.type");
      }
      const entries = [
        ...(type === "initiator" ? [] : core.targets.allTargets()),
        ...(type === "target" ? [] : core.targets.initiators()),
      ];
      return listReply(PARENT, entries.map((e) => [e.id, e.name, e.address] as [string, string, string]));
    });

    // FC name-server query: there is no FC engine here, so no initiator is ever logged in.
    serve(app, DPL_ROUTES.snsTable, "put", (request) => {
      parseBody(SnsTableBody, request.body);
      return { ...envelope({ id: "sns_table", name: "sns_table", parentURI: PARENT }), metadata: { sns_table: [] } };
    });

    serve(app, DPL_ROUTES.target, "put", async (request) => {
      const id = hexParam(request, "target");
      return targetReply(await perform(newTarget(parseBody(TargetCreateBody, request.body)), (c) => core.targets.create(id, c)));
    });

    serve(app, DPL_ROUTES.target, "get", (request) => targetReply(core.targets.get(hexParam(request, "target"))));

    serve(app, DPL_ROUTES.target, "delete", (request) => targetReply(core.targets.delete(hexParam(request, "target"))));
    done();
  };
}
