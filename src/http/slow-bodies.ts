import type { IncomingMessage, ServerOptions } from 'node:http';

/** The time limits that keep slow clients from holding connections and spool files. */
export interface RequestTimeouts {
  /** The longest a client may take to send one whole request (Node's `server.requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** The longest a request body may pause between two reads before the connection is cut. */
  readonly requestIdleTimeoutMs: number;
  /**
   * The least a request body must deliver per second, judged over each window of
   * `requestBodyRateWindowMs`; 0 turns the check off. Ends a body that drips a byte every few
   * seconds, which the idle limit alone never would (each byte restarts it).
   */
  readonly requestBodyMinBytesPerSecond: number;
  /** The window over which `requestBodyMinBytesPerSecond` is judged. */
  readonly requestBodyRateWindowMs: number;
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

/** Why a body was cut, or null while it keeps pace. */
export type BodyVerdict = 'idle' | 'slow' | null;

/**
 * The pace of one request body, judged from the socket's byte count at each look: cut when
 * nothing arrived for the idle limit, or when a whole rate window brought less than the minimum
 * rate. A look while the gateway itself is not reading (`waiting`: the body's buffer is full)
 * counts as progress, so a busy reader never blames the client.
 */
export class BodyPace {
  #lastBytes: number;
  #lastProgressAt: number;
  #windowStart: number;
  #windowBytes: number;

  constructor(
    private readonly limits: Omit<RequestTimeouts, 'requestTimeoutMs'>,
    now: number,
    bytes: number,
  ) {
    this.#lastBytes = bytes;
    this.#lastProgressAt = now;
    this.#windowStart = now;
    this.#windowBytes = bytes;
  }

  look(now: number, bytes: number, waiting: boolean): BodyVerdict {
    if (waiting || bytes !== this.#lastBytes) {
      this.#lastBytes = bytes;
      this.#lastProgressAt = now;
    }
    if (waiting) {
      this.#windowStart = now;
      this.#windowBytes = bytes;
      return null;
    }
    if (now - this.#lastProgressAt >= this.limits.requestIdleTimeoutMs) return 'idle';
    const elapsed = now - this.#windowStart;
    if (this.limits.requestBodyMinBytesPerSecond <= 0 || elapsed < this.limits.requestBodyRateWindowMs)
      return null;
    const needed = (this.limits.requestBodyMinBytesPerSecond * elapsed) / 1000;
    if (bytes - this.#windowBytes < needed) return 'slow';
    this.#windowStart = now;
    this.#windowBytes = bytes;
    return null;
  }
}

/** What the client reads before its connection is closed, as Node's own request timeout answers. */
const TOO_SLOW_BODY = JSON.stringify({
  errors: [
    {
      message:
        'The request body arrived too slowly (it paused too long, or came slower than the gateway’s minimum rate); the connection is closed. Send the whole body at once.',
      extensions: { code: 'REQUEST_TOO_SLOW' },
    },
  ],
});
const TOO_SLOW_ANSWER = `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/graphql-response+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TOO_SLOW_BODY)}\r\nConnection: close\r\n\r\n${TOO_SLOW_BODY}`;

/**
 * Cuts the connections of request bodies that stop or crawl (`BodyPace`). One timer looks at every
 * body still arriving, rather than a timer per request. Only requests that announce a body are
 * watched, and each only until its body has arrived, so answers — an SSE stream, a slow rendition
 * behind a GET — are never timed. A cut request whose answer has not started gets a 408
 * `REQUEST_TOO_SLOW` first; cutting the connection fails the body's stream, and the upload spool
 * removes its partial file.
 */
export class SlowBodies {
  readonly #watched = new Map<
    IncomingMessage,
    { readonly pace: BodyPace; readonly answered: () => boolean }
  >();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly limits: RequestTimeouts) {
    this.#tickMs = Math.max(
      50,
      Math.min(1_000, limits.requestIdleTimeoutMs / 4, limits.requestBodyRateWindowMs / 4),
    );
  }

  /** Watches `req`'s body while it arrives; `answered` says whether its answer has started. */
  watch(req: IncomingMessage, answered: () => boolean): void {
    if (req.complete || !announcesBody(req) || !req.socket) return;
    this.#watched.set(req, { pace: new BodyPace(this.limits, Date.now(), req.socket.bytesRead), answered });
    this.#timer ??= setInterval(() => this.#look(), this.#tickMs).unref();
  }

  /** Bodies being watched now (for tests). */
  get size(): number {
    return this.#watched.size;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#watched.clear();
  }

  #look(): void {
    const now = Date.now();
    for (const [req, { pace, answered }] of this.#watched) {
      const socket = req.socket;
      if (req.complete || req.destroyed || !socket || socket.destroyed) {
        this.#watched.delete(req);
        continue;
      }
      const waiting = req.readableLength >= req.readableHighWaterMark;
      if (pace.look(now, socket.bytesRead, waiting) === null) continue;
      this.#watched.delete(req);
      if (answered() || !socket.writable) socket.destroy();
      else socket.end(TOO_SLOW_ANSWER, () => socket.destroy());
    }
    if (this.#watched.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

/** A request with a body: a length above zero, or a transfer encoding (chunked). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}
