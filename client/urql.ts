import { type Exchange, fetchExchange, makeOperation, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { authHeaders, type GatewayConnection, streamUrl, UPLOAD_PREFLIGHT } from './http.js';

/**
 * The urql exchanges for the gateway, in order: the gateway key and upload preflight header on
 * every request, `fetchExchange` for queries and mutations (files become multipart by
 * themselves), and subscriptions over graphql-sse. Put caching exchanges in front of them.
 */
export function urqlExchanges(connection: GatewayConnection): Exchange[] {
  const fetchFn = connection.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const sse = createSseClient({
    url: streamUrl(connection.url),
    headers: () => authHeaders(connection),
    fetchFn,
  });
  const headers = mapExchange({
    onOperation(operation) {
      const options =
        typeof operation.context.fetchOptions === 'function'
          ? operation.context.fetchOptions()
          : (operation.context.fetchOptions ?? {});
      return makeOperation(operation.kind, operation, {
        ...operation.context,
        ...(connection.fetch ? { fetch: connection.fetch } : {}),
        fetchOptions: {
          ...options,
          headers: {
            ...(options.headers as Record<string, string>),
            ...UPLOAD_PREFLIGHT,
            ...authHeaders(connection),
          },
        },
      });
    },
  });
  const subscriptions = subscriptionExchange({
    forwardSubscription(request) {
      const input = { ...request, query: request.query ?? '' };
      return { subscribe: (sink) => ({ unsubscribe: sse.subscribe(input, sink) }) };
    },
  });
  return [headers, fetchExchange, subscriptions];
}
