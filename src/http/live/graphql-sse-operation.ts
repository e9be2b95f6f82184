import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { Result } from '../../shared/result.js';
import { type GraphQLParams, paramsFromJson, paramsFromSearch } from '../graphql-params.js';
import { MAX_JSON_BODY_BYTES, readUpTo, refuseLargeBody } from '../request-body.js';
import type { SharedEvent, Subscriber } from './stream-group.js';
import { MAX_BUFFERED_BYTES, type StreamSink } from './stream-sink.js';

/**
 * graphql-sse's pieces for graphql-sse.ts: a single-connection reservation and its operations,
 * and the request parameters as graphql-sse 2.6 reads them.
 */

const SUFFIX = Buffer.from('}\n\n');
/** Each shared event's result, encoded once for every operation that frames it. */
const encoded = new WeakMap<SharedEvent, Buffer>();

function jsonBytes(event: SharedEvent): Buffer {
  let bytes = encoded.get(event);
  if (!bytes) {
    bytes = Buffer.from(event.json);
    encoded.set(event, bytes);
  }
  return bytes;
}

/** A token's reservation: its stream once connected, and the operations running on it. */
export class Reservation {
  stream: StreamSink | null = null;
  readonly ops = new Map<string, Operation>();
  /** What operations sent before the stream connected (graphql-sse flushes it on connect). */
  #pending: Array<Buffer | string> = [];
  #pendingBytes = 0;

  constructor(
    readonly tenantId: string,
    /** Called when the reservation is over (its stream closed, or it buffered too much unread). */
    readonly dispose: () => void,
  ) {}

  write(bytes: Buffer | string): void {
    if (this.stream) {
      this.stream.send(bytes);
      return;
    }
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes > MAX_BUFFERED_BYTES) this.dispose();
  }

  attach(stream: StreamSink): void {
    this.stream = stream;
    stream.open();
    for (const bytes of this.#pending) stream.send(bytes);
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/** One operation on a stream; the hub's subscriber when the hub shares it. */
export class Operation implements Subscriber {
  #ended = false;
  #stopped = false;
  #stop: (() => void) | null = null;
  readonly #prefix: Buffer;

  constructor(
    readonly id: string,
    readonly reservation: Reservation,
  ) {
    this.#prefix = Buffer.from(`event: next\ndata: {"id":${JSON.stringify(id)},"payload":`);
  }

  /** Stopped by the client or by the stream's end, rather than completed by its source. */
  get stopped(): boolean {
    return this.#stopped;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** How to stop the operation's source; called at once if the operation is already over. */
  set stopWith(stop: () => void) {
    if (this.#ended) stop();
    else this.#stop = stop;
  }

  next(event: SharedEvent): void {
    if (!this.#ended) this.reservation.write(Buffer.concat([this.#prefix, jsonBytes(event), SUFFIX]));
  }

  nextResult(result: ExecutionResult): void {
    if (!this.#ended)
      this.reservation.write(`event: next\ndata: ${JSON.stringify({ id: this.id, payload: result })}\n\n`);
  }

  complete(): void {
    if (this.#ended) return;
    this.reservation.write(`event: complete\ndata: ${JSON.stringify({ id: this.id })}\n\n`);
    this.#end();
  }

  /** The client stopped it (DELETE): graphql-sse still sends `complete` after the source ends. */
  cancel(): void {
    if (this.#ended) return;
    this.#stopped = true;
    this.#halt();
    this.complete();
  }

  /** The stream went away, or Yoga refused the document: nothing more is written. */
  drop(): void {
    if (this.#ended) return;
    this.#stopped = true;
    this.#halt();
    this.#end();
  }

  #halt(): void {
    const stop = this.#stop;
    this.#stop = null;
    stop?.();
  }

  #end(): void {
    this.#ended = true;
    this.#stop = null;
    if (this.reservation.ops.get(this.id) === this) this.reservation.ops.delete(this.id);
  }
}

/**
 * graphql-sse's request parameters (graphql-params.ts, by graphql-sse's rules); the error is the
 * message for its 400. Null when already refused (415, 413).
 */
export async function readOperationParams(
  req: IncomingMessage,
  res: ServerResponse,
  search: URLSearchParams | null,
): Promise<Result<GraphQLParams, string> | null> {
  if (req.method === 'GET') return paramsFromSearch(search ?? new URLSearchParams(), 'graphql-sse');
  if (!(req.headers['content-type'] ?? '').includes('application/json')) {
    res.writeHead(415).end();
    return null;
  }
  const chunks = await readUpTo(req, MAX_JSON_BODY_BYTES);
  if (chunks === null) {
    refuseLargeBody(req, res);
    return null;
  }
  return paramsFromJson(Buffer.concat(chunks).toString('utf8'), 'graphql-sse');
}
