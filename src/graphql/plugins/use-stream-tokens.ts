import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { GraphQLSSEPluginOptions } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from '../server-context.js';
import { useGraphQLSSEWithErrors } from './use-graphql-sse.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';
const NOT_FOUND = JSON.stringify({ errors: [{ message: 'Stream not found' }] });

/** How stream tokens are made. */
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
}

/**
 * graphql-sse (both modes) with the single-connection mode's stream tokens bound to the tenant
 * that reserved them; it installs graphql-sse itself (`useGraphQLSSEWithErrors`), right after it.
 *
 * graphql-sse's default token comes from `Math.random` (guessable from enough samples) and is
 * accepted from whoever presents it, so a tenant who learned or guessed another's token could
 * read that stream or push operations into it. Here a token is a random UUID plus an HMAC of
 * the tenant and that UUID: a reservation (PUT) always gets a fresh token, and a token presented
 * by any other tenant answers like an unknown one (404).
 */
export function useStreamTokens(options: StreamTokensOptions = {}): Plugin {
  const secret = options.secret ?? randomBytes(32);
  const tenantOf = new WeakMap<object, string>();
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
  const authenticate: NonNullable<GraphQLSSEPluginOptions['authenticate']> = (req) => {
    const tenant = tenantOf.get(req.raw as object) ?? '';
    if (req.method === 'PUT') return mint(tenant);
    const presented =
      req.headers.get(TOKEN_HEADER) ?? new URL(req.url, 'http://gateway.invalid').searchParams.get('token');
    if (!presented) return mint(tenant);
    if (belongsTo(presented, tenant)) return presented;
    return [
      NOT_FOUND,
      {
        status: 404,
        statusText: 'Not Found',
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
    ];
  };
  return {
    onPluginInit: ({ addPlugin }) => {
      addPlugin(useGraphQLSSEWithErrors({ authenticate, endpoint: options.endpoint }));
    },
    // Runs before graphql-sse's own onRequest, which answers the protocol's requests.
    onRequest: ({ request, serverContext }) => {
      tenantOf.set(request, (serverContext as Partial<ServerContext>).req?.tenantId ?? '');
    },
  };
}
