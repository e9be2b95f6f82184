import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { ServerContext } from '../../graphql/server-context.js';
import { corsHeaders } from '../../shared/cors.js';
import type { GraphQLParams } from '../graphql-params.js';
import { ANONYMOUS, type StreamCaller } from './caller.js';
import type { StreamHub } from './stream-hub.js';
import { APOLLO_MULTIPART, type Framing, StreamSink, YOGA_SSE } from './stream-sink.js';
import { streamSpec } from './task-operations.js';
import { requestOf, UNEXPECTED, type YogaOperations } from './yoga-operations.js';

/** Yoga's refusal of an operation, as an HTTP answer. */
export interface Refusal {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** graphql-sse's and Yoga's keep-alive interval; Apollo's multipart heartbeats go out on it too. */
const PING_INTERVAL_MS = 12_000;

/** What a subscription on `/graphql` may be answered with, in the 406 that names them. */
export const STREAM_MEDIA_TYPES = ['text/event-stream', 'multipart/mixed;subscriptionSpec="1.0"'] as const;

/**
 * The framing a subscription's `Accept` asks for on `/graphql`: the acceptable media type with
 * the highest `q` (the first of equals) among event streams (`text/event-stream`, as Yoga also
 * takes `*\/*` and `text/*`) and multipart (`multipart/mixed`, Apollo's and urql's); null: none.
 */
export function streamFraming(accept: string | undefined): Framing | null {
  let best: { framing: Framing; q: number } | null = null;
  for (const entry of (accept || '*/*').split(',')) {
    const [type = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    const framing =
      type === 'text/event-stream' || type === 'text/*' || type === '*/*'
        ? YOGA_SSE
        : type === 'multipart/mixed' || type === 'multipart/*'
          ? APOLLO_MULTIPART
          : null;
    if (framing && q > 0 && (!best || q > best.q)) best = { framing, q };
  }
  return best?.framing ?? null;
}

/** The 406 for a subscription whose `Accept` allows none of STREAM_MEDIA_TYPES. */
export function refuseNotAcceptable(res: ServerResponse, cors: Readonly<Record<string, string>>): void {
  const message = `A subscription is streamed: send Accept: ${STREAM_MEDIA_TYPES.join(' or ')}.`;
  res.writeHead(406, { 'content-type': 'application/json; charset=utf-8', ...cors });
  res.end(
    JSON.stringify({
      errors: [{ message, extensions: { code: 'NOT_ACCEPTABLE', accept: STREAM_MEDIA_TYPES } }],
    }),
  );
}

/**
 * The stream layer's one way to serve an operation on a streaming response, for every transport
 * that holds one connection per operation: Yoga's SSE and Apollo's multipart on `/graphql`,
 * graphql-sse's distinct connections on `/graphql/stream`. A task or batch subscription joins the
 * hub (one execution per group and update); anything else runs through Yoga's enveloped functions
 * for this stream alone. An idle stream costs a socket and a few small records.
 */
export class StreamRoutes {
  readonly #open = new Set<StreamSink>();
  /** Runs while a stream is open, so a gateway without streams holds no timer. */
  #ping: NodeJS.Timeout | null = null;
  #unshared = 0;

  constructor(
    private readonly hub: StreamHub,
    private readonly operations: YogaOperations,
    /** Whether equal subscriptions share a group (`GATEWAY_FAST_PATHS`). */
    private readonly share: boolean,
    /** `CORS_ORIGINS` (src/shared/cors.ts); null: any origin, without credentials. */
    private readonly corsOrigins: readonly string[] | null = null,
  ) {}

  /** The CORS headers of a response to `req`. */
  cors(req: IncomingMessage): Readonly<Record<string, string>> {
    return corsHeaders(req.headers.origin, this.corsOrigins);
  }

  /**
   * Serves `params` (already prepared: it parses, validates and its variables coerce) on a
   * stream framed by `framing`; resolves to Yoga's refusal (status and body) when Yoga refused
   * it, after nothing was written.
   */
  async serve(
    req: ServerContext['req'],
    res: ServerResponse,
    framing: Framing,
    params: GraphQLParams,
  ): Promise<Refusal | null> {
    const sink = new StreamSink(res, framing, this.cors(req));
    const stop = await this.subscribe(req, res, params, sink, (result) => sink.fail(result));
    if ('status' in stop) return stop;
    if (res.writableEnded || res.destroyed) stop.leave();
    else this.keepAlive(sink, stop.leave);
    return null;
  }

  /**
   * Runs `params` for `subscriber`: through the hub when it is a task or batch subscription the
   * caller may follow, else through Yoga. Resolves to how to stop it, or to Yoga's refusal.
   */
  async subscribe(
    req: ServerContext['req'],
    res: ServerResponse,
    params: GraphQLParams,
    subscriber: Pick<StreamSink, 'next' | 'nextResult' | 'complete'>,
    onFailure: (result: ExecutionResult) => void,
  ): Promise<{ leave: () => void } | Refusal> {
    const caller: StreamCaller = req.caller ?? ANONYMOUS;
    this.#unshared += 1;
    const prepared = this.operations.prepare(params, caller);
    const spec =
      prepared &&
      streamSpec({
        ...prepared,
        caller,
        variables: params.variables,
        operationName: params.operationName,
        unshared: this.share ? undefined : String(this.#unshared),
      });
    if (spec) {
      const leave = await this.hub.join(spec, subscriber);
      if (leave) return { leave };
    }
    const query = prepared?.query ?? params.query ?? '';
    const performed = await this.operations.perform(
      { query, variables: params.variables, operationName: params.operationName },
      { req, res },
      requestOf(req),
    );
    if ('answer' in performed) return performed.answer;
    const { result } = performed;
    if (!(Symbol.asyncIterator in result)) {
      subscriber.nextResult(result);
      subscriber.complete();
      return { leave: () => {} };
    }
    const iterator = result[Symbol.asyncIterator]();
    let stopped = false;
    void (async () => {
      for (let step = await iterator.next(); !step.done; step = await iterator.next())
        subscriber.nextResult(step.value);
      if (!stopped) subscriber.complete();
    })().catch(() => {
      if (!stopped) onFailure(UNEXPECTED);
    });
    return {
      leave: () => {
        stopped = true;
        void iterator.return?.();
      },
    };
  }

  /**
   * Pings `sink` while its response is open (one timer for every stream) and calls `onClose` when
   * the response closes; for these streams and graphql-sse's single-connection ones alike.
   */
  keepAlive(sink: StreamSink, onClose: () => void): void {
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
