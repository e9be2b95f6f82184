import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { ANONYMOUS } from '../core/caller.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { SAMPLE_ORIGIN } from '../outbound/index.js';
import { decideCors } from '../shared/cors.js';
import { createGraphiQLPage, type GraphiQLPage } from './graphiql-page.js';
import { errorMasking } from './plugins/error-masking.js';
import { DEFAULT_ANSWER_SIZE_LIMITS, useAnswerSizeLimit } from './plugins/use-answer-size-limit.js';
import { DEFAULT_COST_LIMITS, useCostLimit } from './plugins/use-cost-limit.js';
import { useLatencyMetrics } from './plugins/use-latency-metrics.js';
import { useMaxNesting } from './plugins/use-max-nesting.js';
import { useNoSuggestions } from './plugins/use-no-suggestions.js';
import { useNotAcceptable } from './plugins/use-not-acceptable.js';
import { DEFAULT_OPERATION_LIMITS, useOperationLimits } from './plugins/use-operation-limits.js';
import { useOperationMetrics } from './plugins/use-operation-metrics.js';
import { type TrustedDocumentsOptions, useTrustedDocuments } from './plugins/use-trusted-documents.js';
import { useUnsupportedMediaType } from './plugins/use-unsupported-media-type.js';
import { useVariableErrors } from './plugins/use-variable-errors.js';
import type { GatewayContext, GatewayServices } from './schema/context.js';
import { schema } from './schema/index.js';
import type { ServerContext } from './server-context.js';

export { MAX_OPERATION_LABELS } from './plugins/use-operation-metrics.js';

/** The operation limits the gateway runs with (use-operation-limits.ts), Yoga's batch limit and the parser's nesting limit (use-max-nesting.ts). */
export const OPERATION_LIMITS = {
  ...DEFAULT_OPERATION_LIMITS,
  ...DEFAULT_COST_LIMITS,
  ...DEFAULT_ANSWER_SIZE_LIMITS,
  maxBatch: 10,
  maxNesting: 64,
} as const;

/**
 * GraphiQL's first tabs. The first runs as it is on a fresh gateway with no network: its image is
 * the gateway's own sample (src/outbound/samples.ts answers it without fetching anything).
 */
const DEFAULT_TABS = [
  {
    query: `# Press ▶ to generate a background for the gateway's own sample image, served without the
# network (see it at /samples/product.png). Put any public https URL in its place — or upload
# a file on the demo page at / — then follow the task live in the next tab with its id.
mutation Generate {
  generateBackground(input: {
    image: { url: "${SAMPLE_ORIGIN}/samples/product.png" }
    background: { prompt: "white marble counter, soft daylight" }
  }) { id state queuePosition }
}
`,
  },
  {
    query: `# Follows a task live: put the id from the first tab in the variables below.
subscription Follow($id: ID!) {
  backgroundTaskUpdated(id: $id) { state progress images { url width height } error { code message } }
}
`,
    variables: '{ "id": "paste the id from the first tab" }',
  },
  { query: 'query Templates { sceneTypes { id name description } }\n' },
];

/** The gateway's GraphiQL page (graphiql-page.ts): Yoga renders it, the node handler serves its assets. */
export function createGatewayGraphiQL(): GraphiQLPage {
  return createGraphiQLPage({ title: 'PicWish background gateway', defaultTabs: DEFAULT_TABS });
}

/**
 * The GraphQL engine: one Pothos schema behind Yoga, with GraphiQL served from the gateway itself
 * (no CDN), operation limits, and errors masked unless they were meant for the client. Each
 * policy is a plugin of its own in plugins/. Subscriptions are streamed by the http layer's live
 * routes (src/http/live/), which run them through this Yoga's enveloped functions.
 */
export function createGatewayYoga(options: {
  services: GatewayServices;
  logger: Logger;
  metrics: GatewayMetrics;
  production: boolean;
  /** The GraphiQL page (createGatewayGraphiQL), whose assets the node handler serves. */
  graphiql: GraphiQLPage;
  /**
   * More plugins, after the gateway's own: the http layer's live routes (src/http/live/) pass theirs
   * here, so this layer need not know about them.
   * @default []
   */
  plugins?: Plugin<GatewayContext>[];
  /**
   * Trusted documents (use-trusted-documents.ts): PERSISTED_OPERATIONS_FILE and _ONLY.
   * @default undefined — any document runs, and no ids are known
   */
  trustedDocuments?: TrustedDocumentsOptions;
  /**
   * `CORS_ORIGINS`: the only origins answered, with credentials (src/shared/cors.ts).
   * @default null (any origin, without credentials)
   */
  corsOrigins?: readonly string[] | null;
  /**
   * The largest body Yoga lets through by its `Content-Length`: the http layer bounds every body
   * before Yoga sees it, and passes its largest bound here (src/http/upload.ts's
   * MAX_REQUEST_BODY_BYTES) so that Yoga's own check stays in step.
   */
  maxRequestBodySize: number;
}): YogaServerInstance<ServerContext, GatewayContext> {
  const { services } = options;
  const { graphiql } = options;
  return createYoga<ServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    multipart: false,
    maxRequestBodySize: options.maxRequestBodySize,
    landingPage: false,
    cors: (request) => {
      const decision = decideCors(request.headers.get('origin') ?? undefined, options.corsOrigins ?? null);
      return decision.origin === null
        ? false
        : { origin: decision.origin, credentials: decision.credentials };
    },
    batching: { limit: OPERATION_LIMITS.maxBatch },
    renderGraphiQL: graphiql.render,
    // The page was rendered with its options at creation; Yoga only needs GraphiQL on.
    graphiql: true,
    ...errorMasking({ logger: options.logger, production: options.production }),
    context: ({ req, request }) => ({
      services,
      caller: req.caller ?? ANONYMOUS,
      requestId: req.requestId ?? '',
      signal: request.signal,
    }),
    plugins: [
      ...(options.trustedDocuments ? [useTrustedDocuments(options.trustedDocuments)] : []),
      useVariableErrors(),
      graphiql.plugin,
      useOperationLimits({ ...OPERATION_LIMITS, blockFieldSuggestion: options.production }),
      // After armor's max-tokens, so its parser is the one this check wraps.
      useMaxNesting({ maxNesting: OPERATION_LIMITS.maxNesting }),
      useCostLimit(OPERATION_LIMITS),
      useAnswerSizeLimit(OPERATION_LIMITS),
      useOperationMetrics({ counter: options.metrics.operations }),
      useUnsupportedMediaType(),
      useNotAcceptable(),
      useLatencyMetrics({ registry: options.metrics.registry }),
      useNoSuggestions({ enabled: options.production }),
      ...(options.plugins ?? []),
    ],
  });
}
