import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, getOperationAST, type ValidationContext } from 'graphql';
import {
  createGraphQLError,
  createYoga,
  type Plugin,
  type YogaServerInstance,
  maskError as yogaMaskError,
} from 'graphql-yoga';
import type { Logger } from 'pino';
import { requestScope } from '../observability/logging.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { createGraphiQLPage } from './graphiql-page.js';
import { useOneOfInputErrors } from './one-of-errors.js';
import { useGraphQLSSEWithErrors } from './plugins/use-graphql-sse.js';
import { useMaxNesting } from './plugins/use-max-nesting.js';
import type { GatewayContext, GatewayServices } from './schema/context.js';
import { schema } from './schema/index.js';
import type { ServerContext } from './server-context.js';
import { createStreamTokens } from './stream-tokens.js';

/**
 * Operation limits (graphql-armor); introspection stays allowed so GraphiQL works. graphql-armor
 * multiplies a list's cost by a literal `first:`, so the most expensive legitimate operation —
 * `backgroundTasks(first: 100)` selecting every field — costs about 27,000: `maxCost` leaves room
 * for that and still refuses fragment-spread floods.
 */
export const OPERATION_LIMITS = {
  maxDepth: 8,
  maxAliases: 15,
  maxTokens: 4000,
  maxDirectives: 20,
  maxCost: 50_000,
  maxBatch: 10,
  maxNesting: 64,
} as const;

/**
 * graphql-armor throws a refusal (depth, aliases, directives, cost) out of validation, and it
 * reaches the client without `extensions.code`; reported as a validation error instead, it gets
 * GRAPHQL_VALIDATION_FAILED like every other one (docs/errors.md). The token limit applies while
 * parsing and already comes as GRAPHQL_PARSE_FAILED.
 */
const REPORT_AS_VALIDATION = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(
        new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ),
  ],
};

const DEFAULT_QUERY = `# Generate a background from a URL, then follow it live.
mutation Generate {
  generateBackground(input: {
    image: { url: "https://example.com/product.png" }
    background: { prompt: "white marble counter, soft daylight" }
  }) { id state queuePosition }
}

subscription Follow($id: ID!) {
  backgroundTaskUpdated(id: $id) { state progress images { url width height } error { code message } }
}

query Templates { sceneTypes { id name description } }
`;

/**
 * The GraphQL engine: one Pothos schema behind Yoga, with GraphiQL served from the gateway itself
 * (no CDN), graphql-sse at /graphql/stream, operation limits, and errors masked unless they were
 * meant for the client. An unexpected error is logged once, with the request id the client gets.
 */
export function createGatewayYoga(options: {
  services: GatewayServices;
  logger: Logger;
  metrics: GatewayMetrics;
  production: boolean;
  /**
   * More plugins, after the gateway's own: the http layer's shortcuts (src/http/live/) pass theirs
   * here, so this layer need not know about them.
   * @default []
   */
  plugins?: Plugin<GatewayContext>[];
}): YogaServerInstance<ServerContext, GatewayContext> {
  const { services, logger, metrics } = options;
  /** Unexpected errors already logged by `maskError`, which Yoga would log a second time. */
  const loggedUnexpected = new WeakSet<object>();
  const graphiql = createGraphiQLPage();
  const streamTokens = createStreamTokens();
  return createYoga<ServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    multipart: false,
    landingPage: false,
    batching: { limit: OPERATION_LIMITS.maxBatch },
    renderGraphiQL: graphiql.render,
    graphiql: { title: 'PicWish background gateway', defaultQuery: DEFAULT_QUERY },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => {
        if (args.length === 1 && isObject(args[0]) && loggedUnexpected.has(args[0])) return;
        logger.error(args.map(String).join(' '));
      },
    },
    maskedErrors: {
      isDev: !options.production,
      maskError: (error, message, isDev) => {
        const masked = yogaMaskError(error, message, false);
        if (masked === error) return isDev ? (error as Error) : withoutInternals(error);
        const requestId = requestScope.getStore()?.requestId ?? null;
        logger.error({ err: error, requestId }, 'unexpected error in an operation');
        if (isObject(error)) loggedUnexpected.add(error);
        return createGraphQLError(message, {
          extensions: {
            code: 'INTERNAL_SERVER_ERROR',
            requestId,
            ...(isDev ? { detail: (error as Error)?.message } : {}),
          },
        });
      },
    },
    context: ({ req }) => ({
      services,
      tenantId: req.tenantId ?? '',
      requestId: req.requestId ?? '',
    }),
    plugins: [
      streamTokens.plugin,
      useGraphQLSSEWithErrors({ authenticate: streamTokens.authenticate }),
      useOneOfInputErrors(schema),
      graphiql.plugin,
      EnvelopArmorPlugin({
        maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: true, ...REPORT_AS_VALIDATION },
        maxAliases: { n: OPERATION_LIMITS.maxAliases, ...REPORT_AS_VALIDATION },
        maxTokens: { n: OPERATION_LIMITS.maxTokens },
        maxDirectives: { n: OPERATION_LIMITS.maxDirectives, ...REPORT_AS_VALIDATION },
        costLimit: { maxCost: OPERATION_LIMITS.maxCost, ...REPORT_AS_VALIDATION },
        blockFieldSuggestion: { enabled: options.production },
      }),
      // After armor's max-tokens, so its parser is the one this check wraps.
      useMaxNesting({ maxNesting: OPERATION_LIMITS.maxNesting }),
      countOperations(metrics),
      ...(options.plugins ?? []),
    ],
  });
}

/**
 * In production, an error meant for the client keeps its message, code and HTTP status but loses
 * `extensions.originalError`, which Yoga adds to request errors (a JSON parse error carries the
 * parser's message, quoting the body).
 */
function withoutInternals(error: unknown): Error {
  if (!(error instanceof GraphQLError) || error.extensions?.originalError === undefined)
    return error as Error;
  const { originalError: _internal, ...extensions } = error.extensions;
  // Yoga answers a spec error with 200 to application/json clients unless it carries an
  // originalError; without the `spec` mark it keeps its 400, as in development.
  const http = extensions.http as { spec?: boolean } | undefined;
  if (http?.spec) extensions.http = { ...http, spec: false };
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions,
  });
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** Distinct operation names counted under their own label; the rest count as `other`. */
export const MAX_OPERATION_LABELS = 100;

/** Counts operations by name and outcome for /metrics. */
function countOperations(metrics: GatewayMetrics): Plugin {
  // Operation names come from clients: only so many distinct ones become label values, so a
  // flood of made-up names cannot grow /metrics (and the memory behind it) without end.
  const known = new Set<string>();
  const label = (name: string): string => {
    if (known.has(name)) return name;
    if (known.size >= MAX_OPERATION_LABELS) return 'other';
    known.add(name);
    return name;
  };
  return {
    onExecute: ({ args }) => {
      const name = getOperationAST(args.document, args.operationName)?.name?.value ?? 'anonymous';
      return {
        onExecuteDone: ({ result }) => {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          metrics.operations.inc({ operation: label(name.slice(0, 64)), outcome: failed ? 'error' : 'ok' });
        },
      };
    },
  };
}
