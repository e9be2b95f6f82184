import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../../core/caller.js';
import { STREAM_TOKEN_HEADER } from '../../graphql/plugins/use-graphql-sse.js';
import { corsHeaders } from '../../shared/cors.js';
import type { GraphQLParams } from '../graphql-params.js';
import { type Framing, GRAPHQL_SSE_DISTINCT, SseSink, YOGA_SSE } from './sse-sink.js';
import type { StreamHub } from './stream-hub.js';
import { taskStreamSpec } from './task-operations.js';
import type { YogaOperations } from './yoga-operations.js';

/** graphql-sse's and Yoga's keep-alive interval. */
const PING_INTERVAL_MS = 12_000;

/**
 * The hub's adapter in the node handler, for the streams that hold one connection each: Yoga's
 * SSE on `/graphql` and graphql-sse's distinct connections on `/graphql/stream`, same-origin or
 * cross-origin. An idle stream then costs a socket and a few small records instead of Yoga's
 * per-request pipeline. Anything it does not take is left to Yoga, unchanged.
 */
export class SseRoutes {
  readonly #open = new Set<SseSink>();
  /** Runs while a stream is open, so a gateway without streams holds no timer. */
  #ping: NodeJS.Timeout | null = null;

  constructor(
    private readonly hub: StreamHub,
    private readonly operations: YogaOperations,
    /** `CORS_ORIGINS` (src/shared/cors.ts); null: any origin, without credentials. */
    private readonly corsOrigins: readonly string[] | null = null,
  ) {}

  /** The framing for an event-stream request on `path`, or null when Yoga must take it. */
  framingFor(req: IncomingMessage, path: string, params: URLSearchParams | null): Framing | null {
    const accept = req.headers.accept ?? '';
    if (path === '/graphql')
      return accept.includes('text/event-stream') && !accept.includes('multipart/mixed') ? YOGA_SSE : null;
    if (path !== '/graphql/stream') return null;
    // graphql-sse takes exactly this Accept for an event stream; with a token it is single-connection mode.
    if (
      accept !== 'text/event-stream' ||
      req.headers[STREAM_TOKEN_HEADER] !== undefined ||
      params?.has('token')
    )
      return null;
    return GRAPHQL_SSE_DISTINCT;
  }

  /** Serves the stream through the hub; false (nothing written) when Yoga must answer. */
  async serve(
    req: IncomingMessage & { caller?: Caller },
    res: ServerResponse,
    framing: Framing,
    params: GraphQLParams,
  ): Promise<boolean> {
    const caller = req.caller ?? { tenantId: '', subject: null };
    const prepared = this.operations.prepare(params, caller);
    if (!prepared) return false;
    const spec = taskStreamSpec({
      ...prepared,
      caller,
      variables: params.variables,
      operationName: params.operationName,
    });
    if (!spec) return false;
    const sink = new SseSink(res, framing, corsHeaders(req.headers.origin, this.corsOrigins));
    const leave = await this.hub.join(spec, sink);
    if (!leave) return false;
    if (res.writableEnded || res.destroyed) {
      leave();
      return true;
    }
    this.keepAlive(sink, leave);
    return true;
  }

  /**
   * Pings `sink` while its response is open (one timer for every stream) and calls `onClose` when
   * the response closes; for these streams and the single-connection ones alike.
   */
  keepAlive(sink: SseSink, onClose: () => void): void {
    this.#open.add(sink);
    this.#ping ??= setInterval(() => {
      for (const open of this.#open) open.ping();
    }, PING_INTERVAL_MS).unref();
    sink.res.once('close', () => {
      this.#open.delete(sink);
      if (this.#open.size === 0 && this.#ping) {
        clearInterval(this.#ping);
        this.#ping = null;
      }
      onClose();
    });
  }
}
