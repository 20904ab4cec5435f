import { z } from "zod";

/**
 * Every DPL object id on the wire is 32 lowercase hex characters: the historical client strips the
 * hyphens from UUIDs, and the storage side rejects ids containing "-".
 */
/** The id's pattern as text: route schemas and the OpenAPI document state it too. */
export const HEX_ID_PATTERN = "^[0-9a-f]{32}$";
export const HexId = z
  .string()
  .regex(new RegExp(HEX_ID_PATTERN), "must be 32 lowercase hex characters (a UUID without hyphens)");
export type HexId = z.infer<typeof HexId>;

/** Converts a UUID (hyphenated or not, any case) to the wire's 32-hex form. */
export function toHexId(uuid: string): HexId {
  return HexId.parse(uuid.replace(/-/g, "").toLowerCase());
}

// Shell metacharacters, path separators and control characters never reach a command line here
// (commands run with argument arrays), but names also become target aliases and log lines, so
// they are refused at the edge rather than escaped everywhere.
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const forbiddenNameChars = /[\u0000-\u001f\u007f`$;&|<>\\"'/*?{}[\]!]/u;

/** A display name: 1..255 characters, no control characters, shell metacharacters or "/". */
export const DisplayName = z
  .string()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  .refine((s) => !forbiddenNameChars.test(s), {
    message: "must not contain control characters, shell metacharacters, quotes or '/'",
  });

/** A free-text description: up to 1024 characters, no control characters. */
export const Description = z
  .string()
  .max(1024, "must be at most 1024 characters")
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u.test(s), {
    message: "must not contain control characters",
  });

/** Sizes are bytes on the wire; 1 EiB is far beyond any pool this server can build. */
export const Bytes = z.number().int("must be an integer number of bytes").nonnegative();
export const PositiveBytes = z
  .number()
  .int("must be an integer number of bytes")
  .positive("must be greater than 0")
  .max(2 ** 60, "must be at most 1 EiB");

/** iSCSI qualified names (RFC 3720 iqn. and eui. forms), compared case-insensitively. */
export const Iqn = z
  .string()
  .max(223, "must be at most 223 characters")
  .regex(
    /^(iqn\.\d{4}-\d{2}\.[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[a-z0-9.:_-]+)?|eui\.[0-9a-f]{16})$/i,
    "must be an iSCSI name (iqn.YYYY-MM.reverse.domain[:id] or eui.<16 hex>)",
  );

/** A portal as "host:port", with IPv6 hosts in brackets ("[::1]:3260"). */
export const Portal = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9A-Za-z.-]+):\d{1,5}$/, "must be host:port ([v6]:port for IPv6)");
