import type { ServerResponse } from 'node:http';
import type { SharedEvent, Subscriber } from './stream-group.js';

/**
 * A stream's response may hold this much unsent data (a client that stopped reading); past it
 * the client is dropped — it reconnects and starts again from the snapshot — so memory per
 * stream stays bounded however slow the reader.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024;

/** How one transport frames the hub's events (PROTOCOL.md); the bytes of `next` are shared. */
export interface Framing {
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Both transports of the node handler frame alike: graphql-sse's distinct connections mode is the
 * format Yoga's own SSE follows (`:` first, `event: next`, `event: complete` with empty data).
 * `Connection: close`: the body is delimited by the end of the connection rather than chunked,
 * so each event is one socket write of bytes shared by every stream (see PROTOCOL.md).
 */
export const YOGA_SSE: Framing = {
  headers: {
    'Content-Type': 'text/event-stream',
    Connection: 'close',
    'Cache-Control': 'no-cache',
    'Content-Encoding': 'none',
  },
};

/** graphql-sse 2.6's headers for a distinct-connections stream. */
export const GRAPHQL_SSE_DISTINCT: Framing = {
  headers: {
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'close',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
  },
};

const PING = ':\n\n';
const COMPLETE = 'event: complete\ndata:\n\n';
/** Each event's `next` frame, encoded once for every stream of every group member. */
const frames = new WeakMap<SharedEvent, Buffer>();

function nextFrame(event: SharedEvent): Buffer {
  let frame = frames.get(event);
  if (!frame) {
    frame = Buffer.from(`event: next\ndata: ${event.json}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

/**
 * The hub's subscriber for one raw SSE response, written with public `ServerResponse` calls only.
 * The head goes out with the first event, so a stream the hub refuses (not the tenant's task)
 * can still be answered by Yoga. Single-connection streams (single-connection.ts) use the same
 * writer for their multiplexed operations through `open` and `send`.
 */
export class SseSink implements Subscriber {
  #started = false;

  constructor(
    readonly res: ServerResponse,
    private readonly framing: Framing,
    private readonly extraHeaders: Readonly<Record<string, string>>,
  ) {}

  get started(): boolean {
    return this.#started;
  }

  next(event: SharedEvent): void {
    if (this.open()) this.send(nextFrame(event));
  }

  complete(): void {
    if (this.open()) this.res.end(COMPLETE);
  }

  /** A comment line; proxies and browsers keep an idle stream open while something arrives. */
  ping(): void {
    if (this.#started && !this.res.writableEnded) this.send(PING);
  }

  /** Sends the head (once) and the first comment; false once the response is over. */
  open(): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (!this.#started) {
      this.#started = true;
      this.res.removeHeader('transfer-encoding');
      this.res.writeHead(200, { ...this.framing.headers, ...this.extraHeaders });
      this.res.write(PING);
    }
    return true;
  }

  /** Writes bytes to an open stream; a reader that lets more than the bound pile up is dropped. */
  send(bytes: Buffer | string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(bytes);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.res.destroy();
  }
}
