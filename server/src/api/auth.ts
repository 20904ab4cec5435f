/**
 * HTTP Basic on every route. Credentials are compared in constant time (over SHA-256 digests, so
 * lengths never leak), and a client that keeps guessing wrong waits longer for each 401 (up to 1 s).
 * The waits of one address's wrong guesses queue behind each other, so sending guesses in
 * parallel buys no more of them per second than sending them one by one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody, STATUS_OF } from "./error-registry";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export interface BasicAuthOptions {
  username: string;
  password: string;
}

const FREE_FAILURES = 5;
const DELAY_STEP_MS = 250;
const MAX_DELAY_MS = 1000;
const FORGET_AFTER_MS = 60_000;

export function basicAuthHook(options: BasicAuthOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(`${options.username}:${options.password}`);
  const failures = new Map<string, { count: number; last: number; queue: Promise<void> }>();

  return async (request, reply) => {
    const header = request.headers.authorization ?? "";
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const given = match?.[1] === undefined ? "" : Buffer.from(match[1], "base64").toString("utf8");
    if (match !== null && timingSafeEqual(digest(given), expected)) {
      failures.delete(request.ip);
      return;
    }
    if (match === null) {
      // No credentials at all is a client that has not authenticated yet, not a guess.
      await reply
        .code(STATUS_OF.UNAUTHENTICATED)
        .header("www-authenticate", 'Basic realm="DPL", charset="UTF-8"')
        .send(errorBody("UNAUTHENTICATED", "HTTP Basic credentials are required"));
      return;
    }
    const now = Date.now();
    const previous = failures.get(request.ip);
    const recent = previous !== undefined && now - previous.last < FORGET_AFTER_MS ? previous : undefined;
    const count = (recent?.count ?? 0) + 1;
    const delay = count > FREE_FAILURES ? Math.min(MAX_DELAY_MS, DELAY_STEP_MS * (count - FREE_FAILURES)) : 0;
    // This guess's wait starts when the address's previous wrong guess has had its answer.
    const queue = (recent?.queue ?? Promise.resolve()).then(() => (delay === 0 ? undefined : new Promise<void>((r) => setTimeout(r, delay))));
    if (failures.size >= 10_000) failures.clear();
    failures.set(request.ip, { count, last: now, queue });
    await queue;
    await reply
      .code(STATUS_OF.UNAUTHENTICATED)
      .header("www-authenticate", 'Basic realm="DPL", charset="UTF-8"')
      .send(errorBody("UNAUTHENTICATED", "wrong username or password"));
  };
}
