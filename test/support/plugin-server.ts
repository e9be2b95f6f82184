import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga, type Plugin, type YogaServerOptions } from 'graphql-yoga';
import { runInRequestScope } from '../../src/observability/logging.js';

/** A small schema for plugin specs: a list to page through, a failing field, an input to coerce. */
const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Item { id: ID! child: Item }
    input Filter { ids: [Int!] name: String }
    type Query {
      hello: String!
      item: Item!
      boom: String
      refused: String
      echo(filter: Filter!, limit: Int): String!
    }
    type Subscription { ticks: Int! }
  `,
  resolvers: {
    Query: {
      hello: () => 'world',
      item: () => ({ id: '1', child: { id: '2', child: { id: '3', child: null } } }),
      boom: () => {
        throw new Error('database password leaked in this message');
      },
      refused: async () => {
        const { GraphQLError } = await import('graphql');
        throw new GraphQLError('meant for the client', { extensions: { code: 'NOT_FOUND' } });
      },
      echo: (_root, args) => JSON.stringify(args),
    },
    Subscription: {
      ticks: {
        subscribe: async function* () {
          yield { ticks: 1 };
        },
      },
    },
  },
});

/**
 * Serves a Yoga with just `plugins` (and `options`) on a loopback port, so a plugin's spec drives
 * it over real HTTP. The `x-tenant` header stands in for the tenant the HTTP layer would attach;
 * each request runs in a request scope named by `x-request-id`, as in the gateway.
 */
export async function servePlugins(
  plugins: Plugin[],
  options: Partial<YogaServerOptions<object, object>> = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const yoga = createYoga({ schema, plugins, logging: false, ...options });
  const server = createServer((req, res) => {
    Object.assign(req, { tenantId: req.headers['x-tenant'] ?? '' });
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    void runInRequestScope(String(req.headers['x-request-id'] ?? 'no-id'), () => yoga(req, res), closed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs one operation as JSON and returns the status and parsed body. */
export async function postOperation(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}
