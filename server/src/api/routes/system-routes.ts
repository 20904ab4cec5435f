import { DPL_ROUTES } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import type { DplCore } from "../../core/dpl-core";
import { diskListReply, envelope, systemReply } from "../replies";
import { serve } from "../wire-route-registration";

export function systemRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    serve(app, DPL_ROUTES.system, "get", () => {
      const reply = systemReply(core.settings);
      const maintenance = core.maintenance !== undefined;
      return { ...reply, metadata: { ...reply.metadata, capabilities: { ...reply.metadata.capabilities, scrub: maintenance, dedupe: maintenance } } };
    });

    serve(app, DPL_ROUTES.disks, "get", async () => diskListReply(await core.discovery.disks()));

    /** What the last start found and did: interrupted operations, unowned data on disk, exports re-applied. */
    serve(app, DPL_ROUTES.reconcile, "get", () => ({
      ...envelope({ id: "reconcile", name: "reconcile", parentURI: "/dpl_system" }),
      metadata: { report: core.lastReconcile ?? null, tgtd_restarts: core.watchdog.restarts },
    }));
    done();
  };
}
