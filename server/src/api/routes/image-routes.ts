import { createGzip } from "node:zlib";
import { pipeline } from "node:stream";
import { DPL_ROUTES, ImageCreateBody, imageFileName } from "@prophetstor/dpl-provider/wire";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/domain-error";
import type { DplCore } from "../../core/dpl-core";
import { envelope, imageReply } from "../replies";
import { eventUuidOf, hexParam, parseBody, replyToEventPoll, replyToJob } from "../route-kit";
import { serve } from "../wire-route-registration";
import { newImage } from "../commands/object-commands";
import { perform } from "../commands/wire-command";

const PARENT = "/dpl_image";

/** gzip level 1: zero runs (holes) shrink ~1000:1 at a fraction of the CPU of higher levels. */
const GZIP_LEVEL = 1;

function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : header ?? "";
  return value.split(",").some((part) => {
    const [coding, ...params] = part.trim().split(";");
    return coding?.trim().toLowerCase() === "gzip" && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

export function imageRoutes(core: DplCore) {
  return (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    const imageObject = async (id: string): Promise<Record<string, unknown> | undefined> => {
      const view = await core.images.view(id);
      return view === undefined ? undefined : imageReply(view, PARENT);
    };

    serve(app, DPL_ROUTES.images, "get", async () => ({
      ...envelope({ id: "", name: "dpl_image", parentURI: "/" }),
      children: (await core.images.list()).map((image) => [image.id, image.path.split("/").pop() ?? image.id]),
      metadata: { image_directories: core.images.directories() },
    }));

    serve(app, DPL_ROUTES.image, "get", async (request, reply) => {
      const id = hexParam(request, "image");
      const eventId = eventUuidOf(request);
      if (eventId !== undefined) return replyToEventPoll(core, request, reply, id, eventId, PARENT, () => imageObject(id));
      const object = await imageObject(id);
      if (object === undefined) throw new DomainError("NOT_FOUND", `image ${id} does not exist`);
      return object;
    });

    serve(app, DPL_ROUTES.image, "put", async (request, reply) => {
      const id = hexParam(request, "image");
      const job = await perform(newImage(parseBody(ImageCreateBody, request.body)), (c) => core.images.exportImage(id, c));
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 201, finalReply: () => imageObject(id) });
    });

    serve(app, DPL_ROUTES.image, "delete", async (request, reply) => {
      const id = hexParam(request, "image");
      const job = await core.images.delete(id);
      return replyToJob(core, request, reply, job, { objectId: id, parentURI: PARENT, finishedStatus: 200, finalReply: () => undefined });
    });

    /**
     * The image's bytes. A qcow2 file holds only allocated clusters, so it crosses the wire as
     * small as the data; a raw image is gzip-coded when the client accepts it (`curl --compressed`),
     * which turns its holes into a few bytes each.
     */
    serve(app, DPL_ROUTES.imageContent, "get", async (request, reply) => {
      const id = hexParam(request, "image");
      const { stream, format, fileSize } = await core.images.content(id);
      void reply.header("content-type", "application/octet-stream");
      void reply.header("content-disposition", `attachment; filename="${imageFileName(id, format)}"`);
      void reply.header("vary", "accept-encoding");
      if (format === "raw" && acceptsGzip(request.headers["accept-encoding"])) {
        void reply.header("content-encoding", "gzip");
        const gzip = createGzip({ level: GZIP_LEVEL });
        pipeline(stream, gzip, () => undefined);
        return reply.send(gzip);
      }
      void reply.header("content-length", String(fileSize));
      return reply.send(stream);
    });
    done();
  };
}
