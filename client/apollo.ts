import { ApolloLink } from '@apollo/client';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { Observable } from 'rxjs';
import { type GatewayConnection, gatewayFetch, streamUrl, UPLOAD_PREFLIGHT } from './http.js';

/**
 * One terminating Apollo Client 4 link for the gateway: queries and mutations over HTTP (files
 * in the variables become a multipart upload, with the preflight header the gateway's CSRF
 * check needs), subscriptions over graphql-sse, the token on both (renewed once when it expired). Apollo ships no SSE
 * transport, so without this every app wires three links by hand.
 */
export function apolloLink(connection: GatewayConnection): ApolloLink {
  const fetchFn = gatewayFetch(connection);
  const sse = createSseClient({ url: streamUrl(connection.url), fetchFn });
  const subscriptions = new ApolloLink(
    (operation) =>
      new Observable<ApolloLink.Result>((observer) =>
        sse.subscribe(
          {
            query: print(operation.query),
            variables: operation.variables,
            ...(operation.operationName ? { operationName: operation.operationName } : {}),
          },
          {
            next: (result) => observer.next(result as ApolloLink.Result),
            error: (error) => observer.error(error),
            complete: () => observer.complete(),
          },
        ),
      ),
  );
  const preflight = new ApolloLink((operation, forward) => {
    operation.setContext(({ headers }: { headers?: Record<string, string> }) => ({
      headers: { ...headers, ...UPLOAD_PREFLIGHT },
    }));
    return forward(operation);
  });
  const http = preflight.concat(new UploadHttpLink({ uri: connection.url, fetch: fetchFn }));
  return ApolloLink.split(({ query }) => isSubscriptionOperation(query), subscriptions, http);
}
