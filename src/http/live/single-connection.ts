/**
 * graphql-sse's single-connection mode on `/graphql/stream`, served by the node handler: the
 * reservations, the streams and their operations are the gateway's own, so an idle subscription
 * costs what it costs on the other transports (a socket and small records) instead of Yoga's and
 * graphql-sse's per-request pipelines. The protocol's answers are graphql-sse 2.6's (PROTOCOL.md);
 * this file is long because it is one protocol, answer by answer.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { type Caller, callerKey } from '../../core/caller.js';
import { STREAM_TOKEN_HEADER } from '../../graphql/plugins/use-graphql-sse.js';
import {
  type ReservationRefusal,
  StreamReservations,
  type StreamTokensOptions,
} from '../../graphql/plugins/use-stream-tokens.js';
import type { ServerContext } from '../../graphql/server-context.js';
import { corsHeaders } from '../../shared/cors.js';
import { readUpTo, refuse } from '../refusal.js';
import type { SseRoutes } from './sse-routes.js';
import { GRAPHQL_SSE_DISTINCT, MAX_BUFFERED_BYTES, SseSink } from './sse-sink.js';
import type { SharedEvent, Subscriber } from './stream-group.js';
import type { StreamHub } from './stream-hub.js';
import { taskStreamSpec } from './task-operations.js';
import type { YogaOperations } from './yoga-operations.js';

/** The largest operation body read (the gateway's JSON body limit). */
const MAX_OPERATION_BYTES = 1024 * 1024;
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
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

/** The parameters of one operation, as graphql-sse reads them. */
interface OperationParams {
  readonly query: string;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
  readonly extensions: Record<string, unknown> | null;
}

/** A token's reservation: its stream once connected, and the operations running on it. */
class Reservation {
  stream: SseSink | null = null;
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

  attach(stream: SseSink): void {
    this.stream = stream;
    stream.open();
    for (const bytes of this.#pending) stream.send(bytes);
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/** One operation on a stream; the hub's subscriber when the hub shares it. */
class Operation implements Subscriber {
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
 * The single-connection mode (`PUT` reserves a token, an event-stream request with it opens the
 * stream, `POST` adds an operation, `DELETE ?operationId=` stops one). `backgroundTaskUpdated`
 * operations join the hub; any other runs through Yoga's enveloped functions, as
 * `@graphql-yoga/plugin-graphql-sse` runs it. Tokens are bound to the tenant that reserved them
 * (use-stream-tokens.ts); another tenant's token answers like an unknown one.
 */
export class SingleConnectionStreams {
  readonly #reservations = new Map<string, Reservation>();
  /** Expiry, the per-tenant cap and one stream per token, as for graphql-sse inside Yoga. */
  readonly #policy: StreamReservations;

  constructor(
    private readonly hub: StreamHub,
    private readonly operations: YogaOperations,
    private readonly routes: SseRoutes,
    /** `CORS_ORIGINS` (src/shared/cors.ts); null: any origin, without credentials. */
    private readonly corsOrigins: readonly string[] | null = null,
    /** `SSE_RESERVATION_TTL_MS` and `SSE_RESERVATIONS_PER_TENANT` (use-stream-tokens.ts). */
    limits: Pick<StreamTokensOptions, 'reservationTtlMs' | 'reservationsPerTenant'> = {},
  ) {
    this.#policy = new StreamReservations(limits, (token) => this.#reservations.get(token)?.dispose());
  }

  /** Reservations held (for tests and metrics). */
  get reservationCount(): number {
    return this.#reservations.size;
  }

  /**
   * Answers a `/graphql/stream` request of this mode (a `PUT`, or any request with a token) and
   * resolves true; false, untouched, for a distinct-connections request.
   */
  async handle(
    req: ServerContext['req'],
    res: ServerResponse,
    search: URLSearchParams | null,
  ): Promise<boolean> {
    const header = req.headers[STREAM_TOKEN_HEADER];
    const token = (Array.isArray(header) ? header.join('') : header) || search?.get('token') || null;
    const accept = req.headers.accept || '*/*';
    if (token === null && (req.method !== 'PUT' || accept === 'text/event-stream')) return false;
    const caller = req.caller ?? { tenantId: '', subject: null };
    // A reservation belongs to its caller: another end user of the tenant cannot use its token.
    const tenantId = callerKey(caller);
    const cors = corsHeaders(req.headers.origin, this.corsOrigins);
    const found = token === null ? undefined : this.#reservations.get(token);
    const reservation = found?.tenantId === tenantId ? found : undefined;
    const answer = (status: number, body?: string, headers: Readonly<Record<string, string>> = {}) => {
      res.writeHead(status, { ...(body === undefined ? {} : JSON_TYPE), ...headers, ...cors });
      res.end(body);
      return true;
    };
    const refuse = (refusal: ReservationRefusal) => answer(refusal.status, refusal.body, refusal.headers);
    const notFound = () => answer(404, JSON.stringify({ errors: [{ message: 'Stream not found' }] }));
    if (accept === 'text/event-stream') {
      if (token === null || !this.#policy.tokens.belongsTo(token, tenantId)) return notFound();
      if (!this.#policy.claim(token) || !reservation) return refuse(this.#policy.expired());
      const sink = new SseSink(res, GRAPHQL_SSE_DISTINCT, cors);
      reservation.attach(sink);
      this.routes.keepAlive(sink, reservation.dispose);
      return true;
    }
    if (req.method === 'PUT') {
      if (accept !== '*/*' && accept !== 'text/plain') return answer(406);
      const reserved = this.#policy.reserve(tenantId);
      if (typeof reserved !== 'string') return refuse(reserved);
      this.#reserve(reserved, tenantId);
      res.writeHead(201, { 'content-type': 'text/plain; charset=utf-8', ...cors });
      res.end(reserved);
      return true;
    }
    if (req.method === 'DELETE') {
      if (!reservation) return notFound();
      const id = search?.get('operationId');
      if (!id) return answer(400, JSON.stringify({ errors: [{ message: 'Operation ID is missing' }] }));
      const op = reservation.ops.get(id);
      reservation.ops.delete(id);
      op?.cancel();
      return answer(200);
    }
    if (req.method !== 'GET' && req.method !== 'POST')
      return answer(405, undefined, { allow: 'GET, POST, PUT, DELETE' });
    if (!reservation) return notFound();
    if (accept !== '*/*' && accept !== 'application/*' && accept !== 'application/json') return answer(406);
    const params = await this.#params(req, res, search);
    if (params === null) return true;
    if (typeof params === 'string') return answer(400, JSON.stringify({ errors: [{ message: params }] }));
    const id = String(params.extensions?.operationId ?? '');
    if (!id) return answer(400, JSON.stringify({ errors: [{ message: 'Operation ID is missing' }] }));
    if (reservation.ops.has(id))
      return answer(409, JSON.stringify({ errors: [{ message: 'Operation with ID already exists' }] }));
    const op = new Operation(id, reservation);
    reservation.ops.set(id, op);
    const refused = await this.#start(op, params, req, res, caller);
    if (refused) return answer(refused.status, refused.body, refused.headers);
    // Stopped (DELETE, or the stream closed) before it started: graphql-sse answers 204.
    return answer(op.stopped ? 204 : 202);
  }

  #reserve(token: string, tenantId: string): void {
    const reservation: Reservation = new Reservation(tenantId, () => {
      if (this.#reservations.get(token) !== reservation) return;
      this.#reservations.delete(token);
      this.#policy.claim(token);
      for (const op of reservation.ops.values()) op.drop();
      reservation.ops.clear();
      reservation.stream?.res.destroy();
    });
    this.#reservations.set(token, reservation);
  }

  /**
   * Starts the operation: through the hub when it is a task stream of the tenant's task, else
   * through Yoga. Resolves to graphql-sse's refusal when Yoga refused the document.
   */
  async #start(
    op: Operation,
    params: OperationParams,
    req: ServerContext['req'],
    res: ServerResponse,
    caller: Caller,
  ): Promise<{ status: number; body: string; headers?: Readonly<Record<string, string>> } | null> {
    const gql = { ...params, documentHash: null };
    const prepared = this.operations.prepare(gql, caller);
    const spec = prepared && taskStreamSpec({ ...prepared, ...params, caller });
    if (spec) {
      const leave = await this.hub.join(spec, op);
      if (leave) {
        op.stopWith = leave;
        return null;
      }
    }
    if (op.ended) return null;
    const performed = await this.operations.perform(params, { req, res }, requestOf(req));
    if ('answer' in performed) {
      op.drop();
      return performed.answer;
    }
    const { result } = performed;
    if (!(Symbol.asyncIterator in result)) {
      op.nextResult(result);
      op.complete();
      return null;
    }
    const iterator = result[Symbol.asyncIterator]();
    op.stopWith = () => void iterator.return?.();
    void (async () => {
      for (let step = await iterator.next(); !step.done; step = await iterator.next())
        op.nextResult(step.value);
      op.complete();
    })().catch(() => {
      // graphql-sse ends the whole stream when an operation's source throws.
      op.reservation.dispose();
    });
    return null;
  }

  /** graphql-sse's request parameters; a message for its 400, or null when already refused. */
  async #params(
    req: IncomingMessage,
    res: ServerResponse,
    search: URLSearchParams | null,
  ): Promise<OperationParams | string | null> {
    let raw: unknown;
    if (req.method === 'GET') {
      try {
        const variables = search?.get('variables');
        const extensions = search?.get('extensions');
        raw = {
          query: search?.get('query') ?? undefined,
          operationName: search?.get('operationName') ?? undefined,
          variables: variables ? JSON.parse(variables) : undefined,
          extensions: extensions ? JSON.parse(extensions) : undefined,
        };
      } catch {
        return 'Unparsable URL';
      }
    } else {
      if (!(req.headers['content-type'] ?? '').includes('application/json')) {
        res.writeHead(415).end();
        return null;
      }
      const chunks = await readUpTo(req, MAX_OPERATION_BYTES);
      if (chunks === null) {
        refuse(req, res, 413, `The request body is over ${MAX_OPERATION_BYTES} bytes.`, {
          code: 'PAYLOAD_TOO_LARGE',
        });
        return null;
      }
      try {
        raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        return (error as Error).message;
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'JSON body must be an object';
    }
    const { query, variables, operationName, extensions } = raw as Record<string, unknown>;
    if (query === undefined || query === null) return 'Missing query';
    if (typeof query !== 'string') return 'Invalid query';
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables)))
      return 'Invalid variables';
    if (extensions != null && (typeof extensions !== 'object' || Array.isArray(extensions)))
      return 'Invalid extensions';
    return {
      query,
      variables: (variables as Record<string, unknown> | null | undefined) ?? null,
      operationName: typeof operationName === 'string' ? operationName : null,
      extensions: (extensions as Record<string, unknown> | null | undefined) ?? null,
    };
  }
}

/** A fetch `Request` with the node request's method and headers, for Yoga's plugins to read. */
function requestOf(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(`http://gateway.invalid${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
}
