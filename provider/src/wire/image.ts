import { z } from "zod";
import { Bytes, DisplayName, HexId } from "./ids";
import { Envelope, IdNamePair } from "./envelope";

/**
 * Image management (named by DPL's API families but absent from the historical client; designed
 * here in the protocol's style):
 *
 * - A volume made from an image: `PUT /v1/dpl_volume/<vol>/` whose body has a top-level `image`
 *   (a file on the server inside an allowed image directory, or an http(s) URL the server fetches).
 * - A volume or snapshot written out as an image file: `PUT /v1/dpl_image/<image>/`, read with
 *   `GET`, removed with `DELETE`, its bytes streamed by `GET /v1/dpl_image/<image>/content`.
 */

export const ImageFormat = z.enum(["raw", "qcow2"]);
export type ImageFormat = z.infer<typeof ImageFormat>;

/** A server-side path as a client may name it: absolute, normalised, nothing that climbs out. */
export const ServerPath = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(/^\/[^\0]*$/, "must be an absolute path on the server")
  .refine((p) => !p.split("/").some((segment) => segment === ".." || segment === "."), "must not contain '.' or '..' segments")
  .refine((p) => !p.includes("//"), "must not contain empty segments ('//')");

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

/** An http(s) URL without credentials in it (they would land in logs and state). */
export const ImageUrl = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .refine(isHttpUrl, "must be an http:// or https:// URL with a host and no user:password part");

/** Where an image comes from: exactly one of `path` and `url`, and its format. */
export const ImageSource = z
  .object({
    path: ServerPath.optional().describe("A file on the DPL server, inside one of its image directories (see `dpl-server serve --image-dir`, and each pool's `images/`)."),
    url: ImageUrl.optional().describe("An http(s) URL the server fetches (zero blocks are written as holes)."),
    format: ImageFormat.describe("\"raw\" or \"qcow2\"."),
  })
  .strict()
  .refine((s) => (s.path === undefined) !== (s.url === undefined), { path: ["path"], message: "give exactly one of path and url" });
export type ImageSource = z.infer<typeof ImageSource>;

/** `PUT /v1/dpl_image/<image>/`: write a volume (or one of its snapshots) out as an image file. */
export const ImageCreateBody = z.object({
  metadata: z.object({
    display_name: DisplayName.nullable().optional(),
    source_volume: HexId,
    /** A snapshot of source_volume: its data instead of the volume's current data. */
    source_snapshot: HexId.optional(),
    format: ImageFormat,
    /** One of the server's image directories; default: the source pool's own image directory (same filesystem: raw is a reflink). */
    directory: ServerPath.optional(),
  }).strict(),
}).strict();
export type ImageCreateBody = z.input<typeof ImageCreateBody>;

export const ImageMetadata = z.object({
  image_uuid: HexId,
  format: ImageFormat,
  /** The image file on the server. */
  path: z.string(),
  /** Size of the disk the image holds. */
  virtual_size: Bytes,
  /** Length of the image file. */
  file_size: Bytes,
  /** Bytes the file takes on disk (holes and shared extents excluded or counted as the filesystem reports). */
  allocated_size: Bytes,
  /** `GET` this path (under the server's URL) for the image's bytes. */
  content_uri: z.string(),
  ctime: z.number(),
  event_uuid: z.string().optional(),
});
export type ImageMetadata = z.infer<typeof ImageMetadata>;

export const ImageReply = Envelope.extend({ metadata: ImageMetadata, children: z.array(z.string()) });
export type ImageReply = z.infer<typeof ImageReply>;

/** `GET /v1/dpl_image/`: `[uuid, file name]` pairs, and the directories images may be read from or written to. */
export const ImageListReply = Envelope.extend({
  children: z.array(IdNamePair),
  metadata: z.object({ image_directories: z.array(z.string()) }).loose(),
});
export type ImageListReply = z.infer<typeof ImageListReply>;

/** The file name an image id gets in its directory. */
export function imageFileName(id: string, format: ImageFormat): string {
  return `${id}.${format}`;
}
