import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { SharedEvent, Subscriber } from './stream-group.js';

/**
 * A stream's response may hold this much unsent data (a client that stopped reading); past it
 * the client is dropped — it reconnects and starts again from the snapshot — so memory per
 * stream stays bounded however slow the reader.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024;

/** How one transport frames a stream (PROTOCOL.md); each event's bytes are encoded once and shared. */
export interface Framing {
  readonly headers: Readonly<Record<string, string>>;
  /** Written right after the head. */
  readonly opening: string;
  /** Written on the keep-alive interval while the stream is idle. */
  readonly ping: string;
  /** Written after the last event, before the response ends. */
  readonly closing: string;
  /** The bytes of one event (a result's JSON), cached per shared event. */
  frame(event: SharedEvent): Buffer;
  /** The bytes of a result only this stream gets. */
  frameResult(result: ExecutionResult): string;
  /** What ends a stream whose source failed (a masked error), closing included. */
  failure(result: ExecutionResult): string;
}

/**
 * A framing that encodes each shared event once for every stream (a WeakMap per framing), so
 * every subscriber of a group is handed the same Buffer.
 */
function framing(spec: Omit<Framing, 'frame' | 'frameResult'> & { wrap(json: string): string }): Framing {
  const frames = new WeakMap<SharedEvent, Buffer>();
  return {
    ...spec,
    frame(event) {
      let frame = frames.get(event);
      if (!frame) {
        frame = Buffer.from(spec.wrap(event.json));
        frames.set(event, frame);
      }
      return frame;
    },
    frameResult: (result) => spec.wrap(JSON.stringify(result)),
  };
}

/**
 * `Connection: close`: the body is delimited by the end of the connection rather than chunked,
 * so each event is one socket write of bytes shared by every stream (see PROTOCOL.md).
 */
const SSE_BASE = {
  opening: ':\n\n',
  ping: ':\n\n',
  closing: 'event: complete\ndata:\n\n',
  wrap: (json: string) => `event: next\ndata: ${json}\n\n`,
  failure: (result: ExecutionResult) =>
    `event: next\ndata: ${JSON.stringify(result)}\n\nevent: complete\ndata:\n\n`,
};

/** Yoga's SSE on `/graphql` (graphql-sse's distinct connections format, Yoga's headers). */
export const YOGA_SSE: Framing = framing({
  ...SSE_BASE,
  headers: {
    'Content-Type': 'text/event-stream',
    Connection: 'close',
    'Cache-Control': 'no-cache',
    'Content-Encoding': 'none',
  },
});

/** graphql-sse 2.6's headers for a distinct-connections stream; single-connection streams too. */
export const GRAPHQL_SSE_DISTINCT: Framing = framing({
  ...SSE_BASE,
  headers: {
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'close',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
  },
});

const PART = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';

/**
 * Apollo's multipart HTTP subscriptions (`subscriptionSpec=1.0`): every part ends with the
 * boundary, so a client hands each part on as soon as it arrives; `{}` is the heartbeat, and the
 * closing delimiter `--graphql--` ends the stream. A failure is `{"payload":null,"errors":[…]}`.
 */
export const APOLLO_MULTIPART: Framing = framing({
  headers: {
    'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    connection: 'close',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
  },
  opening: '\r\n--graphql',
  ping: `${PART}{}\r\n--graphql`,
  closing: '--\r\n',
  wrap: (json) => `${PART}{"payload":${json}}\r\n--graphql`,
  failure: (result) =>
    `${PART}${JSON.stringify({ payload: null, errors: result.errors ?? [] })}\r\n--graphql--\r\n`,
});

/**
 * The hub's subscriber for one streaming response, written with public `ServerResponse` calls
 * only. The head goes out with the first event, so a stream that turns out not to be one (a
 * refused document) can still be answered with a status. graphql-sse's single-connection
 * streams (graphql-sse.ts) use `open` and `send` for their multiplexed operations.
 */
export class StreamSink implements Subscriber {
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
    if (this.open()) this.send(this.framing.frame(event));
  }

  /** A result of this stream alone (an operation the hub does not share). */
  nextResult(result: ExecutionResult): void {
    if (this.open()) this.send(this.framing.frameResult(result));
  }

  complete(): void {
    if (this.open()) this.res.end(this.framing.closing);
  }

  /** Ends the stream with a failure its source reported (already masked). */
  fail(result: ExecutionResult): void {
    if (this.open()) this.res.end(this.framing.failure(result));
  }

  /** Proxies and browsers keep an idle stream open while something arrives. */
  ping(): void {
    if (this.#started && !this.res.writableEnded) this.send(this.framing.ping);
  }

  /** Sends the head (once) and the opening bytes; false once the response is over. */
  open(): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (!this.#started) {
      this.#started = true;
      this.res.removeHeader('transfer-encoding');
      this.res.writeHead(200, { ...this.framing.headers, ...this.extraHeaders });
      this.res.write(this.framing.opening);
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
