import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendGraphQLError } from './graphql-errors.js';

/**
 * How much of a refused request's body is read and thrown away before the connection is cut.
 * A client (a browser's fetch, so Apollo and urql) that is still sending when the connection
 * closes sees a reset instead of the answer; reading the rest lets it finish and read the status
 * and code. Above this (a 20 MB upload limit refused twice over and more), a reset is the lesser
 * evil than reading on for a client that was never going to be served. Slow senders are ended by
 * the request timeouts (REQUEST_IDLE_TIMEOUT_MS).
 */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Answers a request refused before (or while) its body was read, in the GraphQL shape every other
 * refusal has, then reads and discards what is left of the body, up to {@link DISCARD_LIMIT_BYTES}.
 * The connection stays usable when the body ends in time. Never throws: the refusal of a hostile
 * request must not become a second error.
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  extensions: Record<string, unknown>,
): void {
  sendGraphQLError(res, status, message, extensions);
  discardRest(req);
}

/**
 * Reads and discards the rest of `req`'s body (the part not read yet), and cuts the connection
 * once more than {@link DISCARD_LIMIT_BYTES} arrived. Safe to call on a request already read to
 * its end, already being read by a parser (the bytes are counted alongside), or whose socket is
 * gone.
 */
export function discardRest(req: IncomingMessage, limit = DISCARD_LIMIT_BYTES): void {
  if (req.readableEnded || req.destroyed) return;
  let seen = 0;
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= limit) return;
    req.off('data', count);
    req.socket?.destroy();
  };
  req.on('data', count);
  req.resume();
}
