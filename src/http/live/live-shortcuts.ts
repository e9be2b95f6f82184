import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Caller } from '../../core/caller.js';
import type { GatewayContext, GatewayServices } from '../../graphql/schema/context.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { bufferedBody } from '../buffered-body.js';
import { type GraphQLParams, paramsFromJson, paramsFromSearch } from '../graphql-params.js';
import { readUpTo } from '../refusal.js';
import { ResponseCache } from './response-cache.js';
import { SingleConnectionStreams } from './single-connection.js';
import { SseRoutes } from './sse-routes.js';
import { StreamHub } from './stream-hub.js';
import { useSharedTaskStreams } from './use-shared-task-streams.js';
import { YogaOperations } from './yoga-operations.js';

/** Bodies the shortcuts read to look at; anything larger goes to Yoga unread. */
const MAX_BODY_BYTES = 16 * 1024;

/** What the shortcuts need from the composition root. */
export interface LiveShortcutDeps {
  readonly services: GatewayServices;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** `CORS_ORIGINS`, for the streams written here (src/shared/cors.ts). @default null */
  readonly corsOrigins?: readonly string[] | null;
  /** `SSE_RESERVATION_TTL_MS` and `SSE_RESERVATIONS_PER_TENANT`. @default use-stream-tokens.ts's */
  readonly streamReservations?: { readonly ttlMs: number; readonly perTenant: number };
}

/**
 * The gateway's two shortcuts for its hottest requests, both repeating only what Yoga itself
 * answers, so the contract stays Yoga's (PROTOCOL.md):
 *
 * - **Live task streams.** Every SSE transport's `backgroundTaskUpdated` subscribers join one
 *   hub (stream-hub.ts): one execution per group and update, through Yoga's plugins.
 * - **Finished-task reads** answered from Yoga's earlier answer (response-cache.ts).
 * - **graphql-sse's single-connection mode**, reservations included (single-connection.ts).
 *
 * The http layer hands `plugins()` to `createGatewayYoga` and calls `handle` for each
 * authenticated GraphQL request; `GATEWAY_FAST_PATHS=off` leaves both out.
 */
export class LiveShortcuts {
  readonly hub: StreamHub;
  readonly #operations = new YogaOperations();
  readonly #routes: SseRoutes;
  readonly single: SingleConnectionStreams;
  readonly #cache: ResponseCache;

  constructor(deps: LiveShortcutDeps) {
    this.hub = new StreamHub({
      readTask: (caller, taskId) => deps.services.tasks.get(caller, taskId),
      watch: (taskId, listener) => deps.services.events.watch(taskId, listener),
      execute: (spec, task) => this.#operations.execute(spec, task),
      onError: (error, taskId) => deps.logger.error({ err: error, taskId }, 'live stream delivery failed'),
    });
    this.#routes = new SseRoutes(this.hub, this.#operations, deps.corsOrigins ?? null);
    this.single = new SingleConnectionStreams(
      this.hub,
      this.#operations,
      this.#routes,
      deps.corsOrigins ?? null,
      {
        reservationTtlMs: deps.streamReservations?.ttlMs,
        reservationsPerTenant: deps.streamReservations?.perTenant,
      },
    );
    this.#cache = new ResponseCache(deps.services, deps.metrics, this.#operations);
  }

  /** Yoga plugins the shortcuts depend on; pass them to `createGatewayYoga({ plugins })`. */
  plugins(): Plugin<GatewayContext>[] {
    return [this.#operations.plugin(), useSharedTaskStreams(this.hub), this.#cache.plugin()];
  }

  /**
   * Takes a GraphQL request the node handler already authenticated. True when it answered; false
   * when Yoga must (a body it read is then handed on in `req.body`).
   */
  async handle(req: IncomingMessage & { caller?: Caller }, res: ServerResponse): Promise<boolean> {
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    if (path !== '/graphql' && path !== '/graphql/stream') return false;
    const search = mark < 0 ? null : new URLSearchParams(target.slice(mark + 1));
    if (path === '/graphql/stream' && (await this.single.handle(req, res, search))) return true;
    const framing = this.#routes.framingFor(req, path, search);
    if (req.method === 'GET') {
      const params = framing && search ? paramsFromSearch(search) : null;
      return params !== null && framing !== null && this.#routes.serve(req, res, framing, params);
    }
    if (req.method !== 'POST' || !/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return false;
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    if (!(length >= 0 && length <= MAX_BODY_BYTES)) return false;
    const body = Buffer.concat((await readUpTo(req, MAX_BODY_BYTES)) ?? []);
    const text = body.toString('utf8');
    let answered = false;
    if (framing) {
      const params: GraphQLParams | null = paramsFromJson(text);
      answered = params !== null && (await this.#routes.serve(req, res, framing, params));
    } else if (path === '/graphql') {
      // A cache hit is found by the bytes alone; the body is parsed only on a miss.
      answered = await this.#cache.answer(req, res, text, () => paramsFromJson(text));
    }
    if (!answered) (req as { body?: unknown }).body = bufferedBody([body]);
    return answered;
  }
}
