import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { ServerContext } from '../graphql/server-context.js';
import type { createGatewayYoga } from '../graphql/yoga.js';
import { SAMPLE_IMAGES } from '../images/index.js';
import { type RequestScope, requestIdFrom, runInRequestScope } from '../observability/logging.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { traceRequest } from '../observability/tracing.js';
import type { Renditions } from '../results/renditions.js';
import type { UrlSigner } from '../results/signer.js';
import { sendJson } from '../shared/send-json.js';
import { bufferedBody } from './buffered-body.js';
import { isUnguardedSimpleRequest } from './csrf.js';
import { type AboutGateway, createDemoRoutes, HTML_SECURITY_HEADERS } from './demo-page.js';
import { serveFile } from './files-route.js';
import { sendGraphQLError } from './graphql-errors.js';
import { createImmutableAssets, type ImmutableAsset } from './immutable-assets.js';
import type { LiveRoutes } from './live/live-routes.js';
import { createLocalModeGuard } from './origin-guard.js';
import { refuse } from './refusal.js';
import { MAX_JSON_BODY_BYTES, readUpTo, refuseLargeBody } from './request-body.js';
import { StreamCaps } from './stream-caps.js';
import { isMultipart, preparseUpload } from './upload.js';

/** What the routes need. */
export interface HttpDeps {
  readonly yoga: ReturnType<typeof createGatewayYoga>;
  /** Who is calling: server keys, session tokens, identity providers' JWTs. */
  readonly auth: Pick<Authenticator, 'required' | 'authenticate'>;
  /** Stored results and their renditions, for `/files/` (made on first fetch, fairly per tenant). */
  readonly files: Renditions;
  readonly signer: UrlSigner;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * Whether a request may read /metrics and the details of /readyz (operator-access.ts).
   * @default every request
   */
  readonly operator?: (req: IncomingMessage) => boolean;
  /** Answers /readyz: whether to take traffic, what each dependency looks like, and what is wrong. */
  readonly readiness: () => Promise<Readiness>;
  /** For the demo page and `/about.json`; absent: the gateway says it runs on PicWish. */
  readonly about?: AboutGateway;
  /**
   * Set in anonymous local mode (no keys, loopback HOST): GraphQL then refuses other sites'
   * origins and non-loopback Host names (origin-guard.ts). Absent: no such guard.
   */
  readonly localOnly?: { readonly publicUrl: string | null };
  /** Every subscription transport and the finished-task reads (live/); absent: Yoga answers all. */
  readonly live?: Pick<LiveRoutes, 'handle'>;
  /**
   * Content-hashed files served at their paths (GraphiQL's script and style sheet,
   * graphql/graphiql-page.ts), cached for a year and compressed (immutable-assets.ts).
   * @default none
   */
  readonly assets?: ReadonlyMap<string, ImmutableAsset>;
  /** Event streams one tenant may hold open on this process (`SSE_STREAMS_PER_TENANT`). @default 1000 */
  readonly streamsPerTenant?: number;
  /** Event streams one end user (a session's subject) may hold open (`SSE_STREAMS_PER_SUBJECT`). @default 20 */
  readonly streamsPerSubject?: number;
}

/** The /readyz answer: 200 with `checks` when ready, 503 with `checks` and `problems` when not. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, unknown>;
  readonly problems: Record<string, string>;
}

/**
 * The routes, in front of Yoga:
 *
 * | path | what |
 * |---|---|
 * | `/graphql` | GraphQL over HTTP (GET/POST), multipart uploads, subscriptions over SSE or Apollo's multipart; GraphiQL for browsers |
 * | `/graphql/stream` | the graphql-sse protocol, both modes |
 * | `/files/<key>` | stored results behind signed links |
 * | `/healthz`, `/readyz`, `/metrics` | liveness, readiness, Prometheus |
 * | `/`, `/about.json` | the demo page on the client kit (no CDN), built into dist/demo/ |
 * | `/demo/<name>.<hash>.<ext>` | the demo page's scripts (the client kit among them) and style sheet |
 * | `/samples/product.png` | a sample foreground (GraphiQL's example names it as `https://gateway.invalid/…`) |
 * | `/graphiql/<name>.<hash>.<ext>` | GraphiQL's script bundle, style sheet and icon |
 *
 * Authentication happens here, once, for every GraphQL transport; the GraphiQL page itself loads
 * without a key so a person can paste one into its header editor.
 */
export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const guard = deps.localOnly ? createLocalModeGuard(deps.localOnly.publicUrl) : null;
  const demo = createDemoRoutes(deps.about ?? { engine: 'picwish', apiKeyRequired: deps.auth.required });
  const operator = deps.operator ?? (() => true);
  const { files } = deps;
  const assets = createImmutableAssets(new Map([...(deps.assets ?? []), ...demo.assets]));
  const streamCaps = new StreamCaps({ perTenant: deps.streamsPerTenant, perSubject: deps.streamsPerSubject });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '/';
    // The GraphQL paths exactly as clients send them need no URL parser (a hot path); anything
    // else (a query string, dot segments, escapes) is parsed and routed by its pathname.
    if (target === '/graphql' || target === '/graphql/stream')
      return handleGraphQL(req, res, deps, guard, streamCaps);
    const url = new URL(target, 'http://gateway.invalid');
    const path = url.pathname;
    if (path === '/graphql' || path === '/graphql/stream')
      return handleGraphQL(req, res, deps, guard, streamCaps);
    if (path.startsWith('/files/')) return serveFile(req, res, url, files, deps.signer);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const { ready, checks, problems } = await deps.readiness();
      const status = ready ? 'ready' : 'unavailable';
      if (!operator(req)) return sendJson(res, ready ? 200 : 503, { status });
      return sendJson(res, ready ? 200 : 503, ready ? { status, checks } : { status, problems, checks });
    }
    if (path === '/metrics') {
      if (!operator(req)) {
        res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, 401, { error: 'Send Authorization: Bearer <METRICS_TOKEN> to read /metrics.' });
      }
      const body = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(body);
      return;
    }
    if (demo.handle(req, res, path)) return;
    const sample = SAMPLE_IMAGES.get(path);
    if (sample) {
      const body = await sample();
      res.writeHead(200, {
        'content-type': 'image/png',
        'content-length': body.length,
        'cache-control': 'public, max-age=86400',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (await assets(req, res, path)) return;
    sendJson(res, 404, { error: 'not found' });
  };
  return (req, res) => {
    const scope = requestIdFrom(req.headers['x-request-id']);
    const { requestId } = scope;
    res.setHeader('x-request-id', requestId);
    (req as ServerContext['req']).requestId = requestId;
    if (scope.clientRequestId !== undefined) requestScopes.set(req, scope);
    handle(req, res).catch((error: unknown) => {
      deps.logger.error({ err: error, ...scope }, 'request failed unexpectedly');
      sendGraphQLError(res, 500, 'Unexpected error.', { code: 'INTERNAL_SERVER_ERROR', requestId });
    });
  };
}

/** The scopes of requests whose client sent an unfit id, which the log names beside the gateway's. */
const requestScopes = new WeakMap<IncomingMessage, RequestScope>();

/**
 * Hands a request to Yoga inside its request scope (logging.ts), which stays open until the
 * response is closed: log lines and masked errors of the operation name the request id. Only
 * Yoga's requests need the scope; the routes and live streams in front of it log nothing per request.
 */
function runYoga(deps: HttpDeps, req: ServerContext['req'], res: ServerResponse): Promise<void> {
  const closed = res.closed ? Promise.resolve() : new Promise<void>((resolve) => res.once('close', resolve));
  return runInRequestScope(
    requestScopes.get(req) ?? req.requestId ?? '',
    () => traceRequest(req, res, closed, async () => deps.yoga(req, res)),
    closed,
  );
}

function wantsGraphiQL(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return req.method === 'GET' && accept.includes('text/html') && !accept.includes('text/event-stream');
}

async function handleGraphQL(
  req: IncomingMessage,
  res: ServerResponse,
  deps: HttpDeps,
  guard: ((req: IncomingMessage) => string | null) | null,
  streamCaps: StreamCaps,
): Promise<void> {
  const request = req as ServerContext['req'];
  const foreign = guard?.(req) ?? null;
  if (foreign) {
    refuse(req, res, 403, foreign, { code: 'FORBIDDEN_ORIGIN' });
    return;
  }
  if (wantsGraphiQL(req)) {
    for (const [name, value] of Object.entries(HTML_SECURITY_HEADERS)) res.setHeader(name, value);
    await runYoga(deps, request, res);
    return;
  }
  // A CORS preflight never carries credentials; Yoga answers it without running anything (on
  // /graphql/stream too: Yoga's CORS answer does not depend on the path).
  if (req.method === 'OPTIONS') {
    await runYoga(deps, request, res);
    return;
  }
  const who = await deps.auth.authenticate(req.headers.authorization);
  if (!who.ok) {
    res.setHeader('www-authenticate', `Bearer error="invalid_token"`);
    refuse(req, res, 401, who.error.message, {
      code: 'UNAUTHENTICATED',
      ...(who.error.reason ? { reason: who.error.reason } : {}),
    });
    return;
  }
  request.caller = who.value;
  const full = streamCaps.admit(req, res, streamCaps.holders(who.value));
  if (full) {
    res.setHeader('retry-after', '5');
    refuse(
      req,
      res,
      429,
      `You already hold ${full.limit} open event streams on this instance (${full.setting}); close one first, or follow several tasks on one graphql-sse single connection.`,
      { code: 'STREAM_LIMIT_EXCEEDED' },
    );
    return;
  }
  if (isUnguardedSimpleRequest(req)) {
    refuse(
      req,
      res,
      400,
      'Form-encoded and text/plain requests must carry an "apollo-require-preflight" or "x-graphql-yoga-csrf" header (CSRF protection); send JSON instead.',
      { code: 'CSRF_PREVENTED' },
    );
    return;
  }
  // Subscriptions on every transport, and finished-task answers, are served in front of Yoga (live/).
  if (deps.live && (await deps.live.handle(request, res))) return;
  if (req.method === 'POST' && isMultipart(req)) {
    if (!(await preparseUpload(req, res))) return;
  } else if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY_BYTES) {
    refuseLargeBody(req, res);
    return;
  } else if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) {
    // A chunked body announces no size: read it here, up to the limit, and hand Yoga the bytes.
    const chunks = await readUpTo(req, MAX_JSON_BODY_BYTES);
    if (chunks === null) {
      refuseLargeBody(req, res);
      return;
    }
    (request as { body?: unknown }).body = bufferedBody(chunks);
  }
  await runYoga(deps, request, res);
}
