import type { IncomingMessage, ServerOptions } from 'node:http';

/** The time limits that keep slow clients from holding connections and spool files. */
export interface RequestTimeouts {
  /** The longest a client may take to send one whole request (Node's `server.requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** The longest a request body may pause between two reads before the connection is cut. */
  readonly requestIdleTimeoutMs: number;
}

/** The headers of a request must arrive within this (or the request timeout, if shorter). */
const HEADERS_TIMEOUT_MS = 20_000;

/**
 * Node's own limits on receiving a request, as `createServer` options. Node's default request
 * timeout is 300 s, which let a client trickling one byte every few seconds hold a connection and
 * a spooled upload for five minutes. The headers limit stays below the request limit, as Node
 * requires, and Node checks both every `connectionsCheckingInterval` (30 s by default, longer
 * than a short limit itself).
 */
export function requestTimeLimits(timeouts: RequestTimeouts): ServerOptions {
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, timeouts.requestTimeoutMs),
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.round(timeouts.requestTimeoutMs / 4))),
  };
}

/**
 * Cuts the connection of a request whose body stops arriving for `idleMs`. The socket's own
 * inactivity timer does the watching (the HTTP parser refreshes it on every read, without this
 * code touching the body, which the routes read later); the request's `timeout` event fires only
 * while its body is incomplete, and the timer is switched off once the body has been read, so a
 * long-lived answer (an SSE stream) is never affected. Cutting the connection fails the body's
 * stream, and the upload spool removes its partial file.
 */
export function endIdleBodies(req: IncomingMessage, idleMs: number): void {
  if (req.complete) return;
  req.setTimeout(idleMs, () => req.socket?.destroy());
  req.once('end', () => req.socket?.setTimeout(0));
}
