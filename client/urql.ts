import { type Exchange, fetchExchange, makeOperation, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { type GatewayConnection, gatewayFetch, streamUrl, UPLOAD_PREFLIGHT } from './http.js';

/**
 * The urql exchanges for the gateway, in order: the upload preflight header and the token (renewed
 * once when it expired) on every request, `fetchExchange` for queries and mutations (files become multipart by
 * themselves), and subscriptions over graphql-sse. Put caching exchanges in front of them.
 */
export function urqlExchanges(connection: GatewayConnection): Exchange[] {
  const fetchFn = gatewayFetch(connection);
  const sse = createSseClient({ url: streamUrl(connection.url), fetchFn });
  const headers = mapExchange({
    onOperation(operation) {
      const options =
        typeof operation.context.fetchOptions === 'function'
          ? operation.context.fetchOptions()
          : (operation.context.fetchOptions ?? {});
      return makeOperation(operation.kind, operation, {
        ...operation.context,
        fetch: fetchFn,
        fetchOptions: {
          ...options,
          headers: {
            ...(options.headers as Record<string, string>),
            ...UPLOAD_PREFLIGHT,
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
