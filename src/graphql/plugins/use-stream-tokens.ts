import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { GraphQLSSEPluginOptions } from '@graphql-yoga/plugin-graphql-sse';
import type { Response as SseResponse } from 'graphql-sse';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from '../server-context.js';
import { STREAM_TOKEN_HEADER, useGraphQLSSEWithErrors } from './use-graphql-sse.js';

type Refusal = SseResponse;
const json = { 'content-type': 'application/json; charset=utf-8' };
const NOT_FOUND: Refusal = [
  JSON.stringify({ errors: [{ message: 'Stream not found' }] }),
  { status: 404, statusText: 'Not Found', headers: json },
];

/** The defaults of {@link StreamTokensOptions}, the same as config.ts's for the env variables. */
const STREAM_RESERVATION_DEFAULTS = { ttlMs: 5_000, perTenant: 100 } as const;

/** How stream tokens are made and how long their reservations wait. */
export interface StreamTokensOptions {
  /**
   * The HMAC key tokens are signed with. graphql-sse keeps a reservation in the memory of the
   * process that made it (README: sticky sessions), so a key per process is enough.
   * @default 32 random bytes, new for every process
   */
  readonly secret?: Uint8Array;
  /**
   * Where the graphql-sse protocol is served.
   * @default '/graphql/stream'
   */
  readonly endpoint?: string;
  /**
   * `SSE_RESERVATION_TTL_MS`: a reservation no stream connected to within this long is dropped.
   * @default 5000
   */
  readonly reservationTtlMs?: number;
  /**
   * `SSE_RESERVATIONS_PER_TENANT`: reservations a tenant may hold unconnected at once; a PUT
   * beyond answers 429 STREAM_RESERVATIONS_EXHAUSTED.
   * @default 100
   */
  readonly reservationsPerTenant?: number;
}

/**
 * graphql-sse (both modes) with the single-connection mode's stream tokens bound to the tenant
 * that reserved them, and its reservations bounded; it installs graphql-sse itself
 * (`useGraphQLSSEWithErrors`), right after it.
 *
 * graphql-sse's default token comes from `Math.random` (guessable from enough samples) and is
 * accepted from whoever presents it, so a tenant who learned or guessed another's token could
 * read that stream or push operations into it. Here a token is a random UUID plus an HMAC of
 * the tenant and that UUID: a reservation (PUT) always gets a fresh token, and a token presented
 * by any other tenant answers like an unknown one (404).
 *
 * graphql-sse also keeps a reservation until a stream connects to it, forever if none does, so
 * unconnected PUTs grew memory without bound. Here each reservation waits at most
 * `reservationTtlMs` for its stream and is then released (graphql-sse frees it); a tenant holds
 * at most `reservationsPerTenant` unconnected ones; and a token admits one stream connection:
 * a later one, or one after the expiry, answers 410 STREAM_RESERVATION_EXPIRED.
 */
export function useStreamTokens(options: StreamTokensOptions = {}): Plugin {
  const secret = options.secret ?? randomBytes(32);
  const ttlMs = options.reservationTtlMs ?? STREAM_RESERVATION_DEFAULTS.ttlMs;
  const perTenant = options.reservationsPerTenant ?? STREAM_RESERVATION_DEFAULTS.perTenant;
  const tenantOf = new WeakMap<object, string>();
  /** Unconnected reservations: their tenant and expiry timer. */
  const waiting = new Map<string, { tenant: string; timer: NodeJS.Timeout }>();
  const waitingPerTenant = new Map<string, number>();
  /** Tokens whose release request is on its way to graphql-sse; only those pass unchecked. */
  const releasing = new Set<string>();
  const mac = (tenant: string, id: string) =>
    createHmac('sha256', secret).update(`${tenant}\n${id}`).digest('base64url').slice(0, 32);
  const mint = (tenant: string) => {
    const id = randomUUID();
    return `${id}.${mac(tenant, id)}`;
  };
  const belongsTo = (token: string, tenant: string): boolean => {
    const [id, presented, extra] = token.split('.');
    if (!id || !presented || extra !== undefined) return false;
    const expected = Buffer.from(mac(tenant, id));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  /** Ends the wait of `token`; true when it was still waiting. */
  const claim = (token: string): boolean => {
    const reservation = waiting.get(token);
    if (!reservation) return false;
    clearTimeout(reservation.timer);
    waiting.delete(token);
    const left = (waitingPerTenant.get(reservation.tenant) ?? 1) - 1;
    if (left > 0) waitingPerTenant.set(reservation.tenant, left);
    else waitingPerTenant.delete(reservation.tenant);
    return true;
  };
  const reserve = (tenant: string): string | Refusal => {
    const held = waitingPerTenant.get(tenant) ?? 0;
    if (held >= perTenant) {
      const message = `Too many stream reservations without a stream (${perTenant}): connect the reserved streams, or wait ${Math.ceil(ttlMs / 1000)} s until unconnected ones expire.`;
      return [
        JSON.stringify({ errors: [{ message, extensions: { code: 'STREAM_RESERVATIONS_EXHAUSTED' } }] }),
        {
          status: 429,
          statusText: 'Too Many Requests',
          headers: { ...json, 'retry-after': String(Math.ceil(ttlMs / 1000)) },
        },
      ];
    }
    const token = mint(tenant);
    const timer = setTimeout(() => {
      if (!claim(token)) return;
      releasing.add(token);
      void sse.release(token).finally(() => releasing.delete(token));
    }, ttlMs);
    timer.unref();
    waiting.set(token, { tenant, timer });
    waitingPerTenant.set(tenant, held + 1);
    return token;
  };
  const expired = (): Refusal => {
    const message = `This stream token admits no stream: its reservation expired (no stream connected within ${ttlMs} ms) or a stream already connected with it. Reserve a new one with PUT.`;
    return [
      JSON.stringify({ errors: [{ message, extensions: { code: 'STREAM_RESERVATION_EXPIRED' } }] }),
      { status: 410, statusText: 'Gone', headers: json },
    ];
  };
  const authenticate: NonNullable<GraphQLSSEPluginOptions['authenticate']> = (req) => {
    const presented =
      req.headers.get(STREAM_TOKEN_HEADER) ??
      new URL(req.url, 'http://gateway.invalid').searchParams.get('token');
    if (presented && releasing.delete(presented)) return presented;
    const tenant = tenantOf.get(req.raw as object) ?? '';
    if (req.method === 'PUT') return reserve(tenant);
    if (!presented) return mint(tenant);
    if (!belongsTo(presented, tenant)) return NOT_FOUND;
    // graphql-sse takes exactly this Accept as the stream connection; anything else adds to it.
    if (req.headers.get('accept') === 'text/event-stream' && !claim(presented)) return expired();
    return presented;
  };
  const sse = useGraphQLSSEWithErrors({ authenticate, endpoint: options.endpoint });
  return {
    onPluginInit: ({ addPlugin }) => {
      addPlugin(sse.plugin);
    },
    // Runs before graphql-sse's own onRequest, which answers the protocol's requests.
    onRequest: ({ request, serverContext }) => {
      tenantOf.set(request, (serverContext as Partial<ServerContext>).req?.tenantId ?? '');
    },
  };
}
