import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { GatewayContext, GatewayServices } from '../../graphql/schema/context.js';
import type { ServerContext } from '../../graphql/server-context.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { bufferedBody } from '../buffered-body.js';
import { type GraphQLParams, paramsFromJson, paramsFromSearch } from '../graphql-params.js';
import { MAX_JSON_BODY_BYTES, readUpTo, refuseLargeBody } from '../request-body.js';
import { ANONYMOUS } from './caller.js';
import { GraphqlSse } from './graphql-sse.js';
import { ResponseCache } from './response-cache.js';
import { StreamHub } from './stream-hub.js';
import { refuseNotAcceptable, StreamRoutes, streamFraming } from './stream-routes.js';
import { YogaOperations } from './yoga-operations.js';

/** Bodies read to look at when no stream is asked for; anything larger goes to Yoga unread. */
const MAX_PEEK_BYTES = 16 * 1024;
const STREAM_ACCEPT = /text\/event-stream|multipart\/mixed/i;

/** What the live routes need from the composition root. */
export interface LiveRoutesDeps {
  readonly services: GatewayServices;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * `GATEWAY_FAST_PATHS`: equal subscriptions share one execution per update, and finished-task
   * reads are answered from Yoga's earlier answer. Off: each subscription executes on its own and
   * every query goes to Yoga; the transports are the same.
   * @default true
   */
  readonly fastPaths?: boolean;
  /** Whether only trusted documents run (the response cache, which matches bytes, is then off). @default false */
  readonly trustedOnly?: boolean;
  /** Trusted documents by id, for subscriptions sent by id. @default none */
  readonly trustedDocuments?: Readonly<Record<string, string>>;
  /** `CORS_ORIGINS`, for the streams written here (src/shared/cors.ts). @default null */
  readonly corsOrigins?: readonly string[] | null;
  /** `SSE_RESERVATION_TTL_MS` and `SSE_RESERVATIONS_PER_TENANT`. @default stream-tokens.ts's */
  readonly streamReservations?: { readonly ttlMs: number; readonly perTenant: number };
}

/**
 * The gateway's live routes in front of Yoga (PROTOCOL.md):
 *
 * - **Every subscription transport**: Yoga's SSE and Apollo's multipart on `/graphql`, graphql-sse
 *   (both modes) on `/graphql/stream`. A `backgroundTaskUpdated` or `backgroundBatchUpdated`
 *   subscription joins the stream hub (stream-hub.ts): one execution per group and update,
 *   through Yoga's plugins.
 * - **Finished-task reads** answered from Yoga's earlier answer (response-cache.ts).
 *
 * The http layer hands `plugins()` to `createGatewayYoga` and calls `handle` for each
 * authenticated GraphQL request.
 */
export class LiveRoutes {
  readonly hub: StreamHub;
  readonly #operations: YogaOperations;
  readonly #routes: StreamRoutes;
  readonly graphqlSse: GraphqlSse;
  readonly #cache: ResponseCache | null;

  constructor(deps: LiveRoutesDeps) {
    this.#operations = new YogaOperations(deps.trustedDocuments);
    this.hub = new StreamHub({
      readTask: (caller, taskId) => deps.services.tasks.get(caller, taskId),
      watch: (taskId, listener) => deps.services.events.watch(taskId, listener),
      execute: (spec, task) => this.#operations.execute(spec, task),
      followBatch: (caller, batchId, listener) => deps.services.batchFeeds.follow(caller, batchId, listener),
      executeBatch: (spec, view) => this.#operations.execute(spec, view),
      onError: (error, id) => deps.logger.error({ err: error, id }, 'live stream delivery failed'),
    });
    const fastPaths = deps.fastPaths ?? true;
    this.#routes = new StreamRoutes(this.hub, this.#operations, fastPaths, deps.corsOrigins ?? null);
    this.graphqlSse = new GraphqlSse(this.#routes, {
      reservationTtlMs: deps.streamReservations?.ttlMs,
      reservationsPerTenant: deps.streamReservations?.perTenant,
    });
    this.#cache =
      fastPaths && !deps.trustedOnly
        ? new ResponseCache(deps.services, deps.metrics, this.#operations)
        : null;
  }

  /** Yoga plugins the routes depend on; pass them to `createGatewayYoga({ plugins })`. */
  plugins(): Plugin<GatewayContext>[] {
    return [this.#operations.plugin(), ...(this.#cache ? [this.#cache.plugin()] : [])];
  }

  /**
   * Takes a GraphQL request the node handler already authenticated. True when it answered; false
   * when Yoga must (a body it read is then handed on in `req.body`).
   */
  async handle(req: ServerContext['req'], res: ServerResponse): Promise<boolean> {
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    const search = mark < 0 ? null : new URLSearchParams(target.slice(mark + 1));
    if (path === '/graphql/stream') {
      await this.graphqlSse.handle(req, res, search);
      return true;
    }
    if (path !== '/graphql') return false;
    const streaming = STREAM_ACCEPT.test(req.headers.accept ?? '');
    if (req.method === 'GET') {
      // Only a document that may be a subscription is looked at; Yoga answers the rest.
      const text = `${search?.get('query') ?? ''}${search?.get('extensions') ?? ''}`;
      const read = search && (streaming || mayBeSubscription(text)) ? paramsFromSearch(search) : null;
      return read?.ok === true && this.#subscription(req, res, read.value);
    }
    if (req.method !== 'POST' || !/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return false;
    const limit = streaming ? MAX_JSON_BODY_BYTES : MAX_PEEK_BYTES;
    // A chunked body announces no size: a request for a stream is read up to the limit anyway.
    const declared = req.headers['content-length'];
    const length = declared === undefined && streaming ? 0 : Number(declared ?? Number.NaN);
    if (!(length >= 0 && length <= limit)) return false;
    const chunks = await readUpTo(req, limit);
    if (chunks === null) {
      refuseLargeBody(req, res, limit);
      return true;
    }
    const body = Buffer.concat(chunks);
    const text = body.toString('utf8');
    let answered = false;
    if (streaming || mayBeSubscription(text)) {
      const read = paramsFromJson(text);
      answered = read.ok && (await this.#subscription(req, res, read.value));
    } else if (this.#cache) {
      // A cache hit is found by the bytes alone; the body is parsed only on a miss.
      answered = await this.#cache.answer(req, res, text, () => {
        const read = paramsFromJson(text);
        return read.ok ? read.value : null;
      });
    }
    if (!answered) (req as { body?: unknown }).body = bufferedBody([body]);
    return answered;
  }

  /**
   * Serves `params` when it is a subscription Yoga would run (it parses and validates, its
   * variables coerce): on the stream its `Accept` asks for, or 406 naming the ones it may.
   */
  async #subscription(
    req: ServerContext['req'],
    res: ServerResponse,
    params: GraphQLParams,
  ): Promise<boolean> {
    const prepared = this.#operations.prepare(params, req.caller ?? ANONYMOUS);
    if (prepared?.operation.operation !== 'subscription') return false;
    const framing = streamFraming(req.headers.accept);
    if (!framing) {
      refuseNotAcceptable(res, this.#routes.cors(req));
      return true;
    }
    const refused = await this.#routes.serve(req, res, framing, params);
    if (refused) {
      res.writeHead(refused.status, {
        'content-type': 'application/json; charset=utf-8',
        ...refused.headers,
      });
      res.end(refused.body);
    }
    return true;
  }
}

/** Cheap first look: a document that never says `subscription` (nor names one by id) is not one. */
function mayBeSubscription(text: string): boolean {
  return text.includes('subscription') || text.includes('persistedQuery');
}
