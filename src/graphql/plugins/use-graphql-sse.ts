import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Options of {@link useGraphQLSSEWithErrors}: those of `@graphql-yoga/plugin-graphql-sse`
 * (`endpoint` @default '/graphql/stream').
 */
export type GraphQLSSEOptions = NonNullable<Parameters<typeof useGraphQLSSE>[0]>;

/** graphql-sse's single-connection token header. */
export const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';

/**
 * The plugin, and the one way to drop a single-connection reservation graphql-sse holds: its
 * handler keeps reserved streams in a private map that only a stream connection (and its end)
 * empties, so the gateway frees an unclaimed one by connecting to it and hanging up at once.
 */
export interface GraphQLSSEPlugin {
  readonly plugin: Plugin;
  /**
   * Connects to the reservation of `token` and cancels the stream: graphql-sse then completes its
   * operations, clears its ping timer and deletes the reservation. The request goes to the plugin
   * alone (no other plugin sees it), so its `authenticate` must let it through.
   */
  release(token: string): Promise<void>;
}

/**
 * `@graphql-yoga/plugin-graphql-sse`, with a document that does not parse answered as 400
 * GRAPHQL_PARSE_FAILED. The plugin parses inside graphql-sse's handler, which lets a syntax error
 * (say a too-deep document refused by useMaxNesting) escape as an exception: Yoga then answered 500
 * with the error's stack trace as the body. Any other exception still goes to Yoga as before.
 */
export function useGraphQLSSEWithErrors(options: GraphQLSSEOptions): GraphQLSSEPlugin {
  const base = useGraphQLSSE(options) as Plugin;
  const endpoint = options.endpoint ?? '/graphql/stream';
  const onRequest = base.onRequest;
  if (!onRequest) throw new Error('@graphql-yoga/plugin-graphql-sse no longer answers in onRequest');
  let fetchAPI: { Request: typeof Request } | null = null;
  const plugin: Plugin = {
    ...base,
    onYogaInit: (payload) => {
      fetchAPI = payload.yoga.fetchAPI;
      return base.onYogaInit?.(payload);
    },
    onRequest: (payload) => {
      const answered = onRequest(payload) as unknown;
      if (!(answered instanceof Promise)) return answered as undefined;
      return answered.catch((error: unknown) => {
        if (!(error instanceof GraphQLError)) throw error;
        const body = parseFailureBody(error);
        payload.endResponse(
          new payload.fetchAPI.Response(body, {
            status: 400,
            headers: { 'content-type': 'application/json; charset=utf-8' },
          }),
        );
      });
    },
  };
  return {
    plugin,
    async release(token) {
      if (!fetchAPI) return;
      const request = new fetchAPI.Request(`http://gateway.invalid${endpoint}`, {
        headers: { accept: 'text/event-stream', [STREAM_TOKEN_HEADER]: token },
      });
      let answer: Response | undefined;
      // The plugin reads only the request, its server context and endResponse from the payload.
      const payload = {
        request,
        serverContext: {},
        endResponse: (response: Response) => {
          answer = response;
        },
      };
      await onRequest(payload as unknown as Parameters<typeof onRequest>[0]);
      await answer?.body?.cancel();
    },
  };
}

/**
 * The 400 body for a document that does not parse, on `/graphql/stream` in either mode (the
 * gateway's own single-connection streams answer the same, src/http/live/single-connection.ts).
 */
export function parseFailureBody(error: GraphQLError): string {
  return JSON.stringify({
    errors: [
      { message: error.message, extensions: { code: error.extensions.code ?? 'GRAPHQL_PARSE_FAILED' } },
    ],
  });
}
