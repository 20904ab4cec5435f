import type { FastifyInstance } from "fastify";
import type { DplCore } from "../../core/dpl-core";
import { diskListReply, envelope, systemReply } from "../replies";

export function systemRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    app.get("/dpl_system/", () => {
      const reply = systemReply(core.settings);
      const maintenance = core.maintenance !== undefined;
      return { ...reply, metadata: { ...reply.metadata, capabilities: { ...reply.metadata.capabilities, scrub: maintenance, dedupe: maintenance } } };
    });

    app.get("/dpl_disk/", async () => diskListReply(await core.discovery.disks()));

    /** What the last start found and did: interrupted operations, unowned data on disk, exports re-applied. */
    app.get("/dpl_system/reconcile/", () => ({
      ...envelope({ id: "reconcile", name: "reconcile", parentURI: "/dpl_system" }),
      metadata: { report: core.lastReconcile ?? null, tgtd_restarts: core.watchdog.restarts },
    }));
    done();
  };
}
