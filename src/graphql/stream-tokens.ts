import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { GraphQLSSEPluginOptions } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from './server-context.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';
const NOT_FOUND = JSON.stringify({ errors: [{ message: 'Stream not found' }] });

/**
 * Stream tokens of graphql-sse's single-connection mode, bound to the tenant that reserved them.
 *
 * graphql-sse's default token comes from `Math.random` (guessable from enough samples) and is
 * accepted from whoever presents it, so a tenant who learned or guessed another's token could
 * read that stream or push operations into it. Here a token is a random UUID plus an HMAC of
 * the tenant and that UUID under a per-process secret: a reservation (PUT) always gets a fresh
 * token, and a token presented by any other tenant answers like an unknown one (404).
 * Reservations already live in one process (STACK-NOTES), so a per-process secret is enough.
 */
export function createStreamTokens(): {
  /** Must come before useGraphQLSSE: notes which tenant each request belongs to. */
  plugin: Plugin;
  authenticate: NonNullable<GraphQLSSEPluginOptions['authenticate']>;
} {
  const secret = randomBytes(32);
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
  return {
    plugin: {
      onRequest: ({ request, serverContext }) => {
        tenantOf.set(request, (serverContext as Partial<ServerContext>).req?.tenantId ?? '');
      },
    },
    authenticate: (req) => {
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
    },
  };
}
