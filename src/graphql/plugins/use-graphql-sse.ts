import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Options of {@link useGraphQLSSEWithErrors}: those of `@graphql-yoga/plugin-graphql-sse`
 * (`endpoint` @default '/graphql/stream').
 */
export type GraphQLSSEOptions = NonNullable<Parameters<typeof useGraphQLSSE>[0]>;

/**
 * `@graphql-yoga/plugin-graphql-sse`, with a document that does not parse answered as 400
 * GRAPHQL_PARSE_FAILED. The plugin parses inside graphql-sse's handler, which lets a syntax error
 * (say a too-deep document refused by useMaxNesting) escape as an exception: Yoga then answered 500
 * with the error's stack trace as the body. Any other exception still goes to Yoga as before.
 */
export function useGraphQLSSEWithErrors(options: GraphQLSSEOptions): Plugin {
  const plugin = useGraphQLSSE(options) as Plugin;
  const onRequest = plugin.onRequest;
  if (!onRequest) return plugin;
  return {
    ...plugin,
    onRequest: (payload) => {
      const answered = onRequest(payload) as unknown;
      if (!(answered instanceof Promise)) return answered as undefined;
      return answered.catch((error: unknown) => {
        if (!(error instanceof GraphQLError)) throw error;
        const body = JSON.stringify({
          errors: [
            { message: error.message, extensions: { code: error.extensions.code ?? 'GRAPHQL_PARSE_FAILED' } },
          ],
        });
        payload.endResponse(
          new payload.fetchAPI.Response(body, {
            status: 400,
            headers: { 'content-type': 'application/json; charset=utf-8' },
          }),
        );
      });
    },
  };
}
