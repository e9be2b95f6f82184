/**
 * graphql-sse's protocol on `/graphql/stream`, both modes, served by the node handler: distinct
 * connections (one stream per operation, through stream-routes.ts like the other transports) and
 * single-connection mode, whose reservations, streams and operations are the gateway's own. The
 * protocol's answers are graphql-sse 2.6's (PROTOCOL.md), answer by answer.
 */
import type { ServerResponse } from 'node:http';
import type { ServerContext } from '../../graphql/server-context.js';
import { ANONYMOUS, callerKey } from './caller.js';
import { Operation, Reservation, readOperationParams } from './graphql-sse-operation.js';
import type { StreamRoutes } from './stream-routes.js';
import { GRAPHQL_SSE_DISTINCT, StreamSink } from './stream-sink.js';
import {
  type ReservationRefusal,
  STREAM_TOKEN_HEADER,
  StreamReservations,
  type StreamTokensOptions,
} from './stream-tokens.js';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/**
 * graphql-sse on `/graphql/stream`. Distinct connections: an event-stream request without a token
 * is the operation's stream. Single-connection mode: `PUT` reserves a token, an event-stream
 * request with it opens the stream, `POST` adds an operation, `DELETE ?operationId=` stops one.
 * Tokens are bound to the tenant that reserved them (stream-tokens.ts); another tenant's token
 * answers like an unknown one.
 */
export class GraphqlSse {
  readonly #reservations = new Map<string, Reservation>();
  /** Expiry, the per-tenant cap and one stream per token. */
  readonly #policy: StreamReservations;

  constructor(
    private readonly routes: StreamRoutes,
    /** `SSE_RESERVATION_TTL_MS` and `SSE_RESERVATIONS_PER_TENANT` (stream-tokens.ts). */
    limits: Pick<StreamTokensOptions, 'reservationTtlMs' | 'reservationsPerTenant'> = {},
  ) {
    this.#policy = new StreamReservations(limits, (token) => this.#reservations.get(token)?.dispose());
  }

  /** Reservations held (for tests and metrics). */
  get reservationCount(): number {
    return this.#reservations.size;
  }

  /** Answers a `/graphql/stream` request. */
  async handle(
    req: ServerContext['req'],
    res: ServerResponse,
    search: URLSearchParams | null,
  ): Promise<void> {
    const header = req.headers[STREAM_TOKEN_HEADER];
    const token = (Array.isArray(header) ? header.join('') : header) || search?.get('token') || null;
    // graphql-sse takes exactly this Accept for an event stream.
    const accept = req.headers.accept || '*/*';
    // A reservation belongs to its caller: another end user of the tenant cannot use its token (#23).
    const tenantId = callerKey(req.caller ?? ANONYMOUS);
    const cors = this.routes.cors(req);
    const found = token === null ? undefined : this.#reservations.get(token);
    const reservation = found?.tenantId === tenantId ? found : undefined;
    const answer = (status: number, body?: string, headers: Readonly<Record<string, string>> = {}) => {
      res.writeHead(status, { ...(body === undefined ? {} : JSON_TYPE), ...headers, ...cors });
      res.end(body);
    };
    const refuse = (refusal: ReservationRefusal) => answer(refusal.status, refusal.body, refusal.headers);
    const notFound = () => answer(404, JSON.stringify({ errors: [{ message: 'Stream not found' }] }));
    if (accept === 'text/event-stream' && token === null) {
      const params = await readOperationParams(req, res, search);
      if (params === null) return;
      if (!params.ok) return answer(400, JSON.stringify({ errors: [{ message: params.error }] }));
      const refused = await this.routes.serve(req, res, GRAPHQL_SSE_DISTINCT, params.value);
      if (refused) answer(refused.status, refused.body, refused.headers);
      return;
    }
    if (accept === 'text/event-stream') {
      if (token === null || !this.#policy.tokens.belongsTo(token, tenantId)) return notFound();
      if (!this.#policy.claim(token) || !reservation) return refuse(this.#policy.expired());
      const sink = new StreamSink(res, GRAPHQL_SSE_DISTINCT, cors);
      reservation.attach(sink);
      this.routes.keepAlive(sink, reservation.dispose);
      return;
    }
    if (req.method === 'PUT') {
      if (accept !== '*/*' && accept !== 'text/plain') return answer(406);
      const reserved = this.#policy.reserve(tenantId);
      if (typeof reserved !== 'string') return refuse(reserved);
      this.#reserve(reserved, tenantId);
      res.writeHead(201, { 'content-type': 'text/plain; charset=utf-8', ...cors });
      res.end(reserved);
      return;
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
    const read = await readOperationParams(req, res, search);
    if (read === null) return;
    if (!read.ok) return answer(400, JSON.stringify({ errors: [{ message: read.error }] }));
    const params = read.value;
    const id = String(params.extensions?.operationId ?? '');
    if (!id) return answer(400, JSON.stringify({ errors: [{ message: 'Operation ID is missing' }] }));
    if (reservation.ops.has(id))
      return answer(409, JSON.stringify({ errors: [{ message: 'Operation with ID already exists' }] }));
    const op = new Operation(id, reservation);
    reservation.ops.set(id, op);
    const started = await this.routes.subscribe(req, res, params, op, () =>
      // graphql-sse ends the whole stream when an operation's source throws.
      reservation.dispose(),
    );
    if ('status' in started) {
      op.drop();
      return answer(started.status, started.body, started.headers);
    }
    op.stopWith = started.leave;
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
}
