import { GraphQLError } from 'graphql';
import { createGraphQLError, type YogaServerOptions, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { requestScope } from '../../observability/logging.js';

type MaskingOptions = Pick<YogaServerOptions<object, object>, 'maskedErrors' | 'logging'>;

/** How unexpected errors are hidden and recorded. */
export interface ErrorMaskingOptions {
  /** Where an unexpected error is logged, once, with its request id. */
  readonly logger: Logger;
  /**
   * Production: no `detail` on masked errors, and no `originalError` on errors meant for the client.
   * @default false
   */
  readonly production?: boolean;
}

/**
 * Error masking with the request id: an error meant for the client (a GraphQLError) passes; any
 * other becomes `Unexpected error.` with INTERNAL_SERVER_ERROR and the request id the client got
 * in `x-request-id`, and is logged once under that id.
 *
 * This is Yoga options rather than a plugin because Yoga masks request errors (a broken body, a
 * parse error) outside envelop's hooks, through its `maskedErrors` option only; and its own
 * logging would record each masked error a second time, without the id, so `logging` is part of
 * the same policy. Spread the result into `createYoga`.
 */
export function errorMasking(options: ErrorMaskingOptions): MaskingOptions {
  const { logger } = options;
  const production = options.production ?? false;
  /** Unexpected errors already logged by `maskError`, which Yoga would log a second time. */
  const loggedUnexpected = new WeakSet<object>();
  return {
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
      isDev: !production,
      maskError: (error, message, isDev) => {
        const masked = yogaMaskError(error, message, false);
        if (masked === error) return isDev ? (error as Error) : withoutInternals(error);
        const scope = requestScope.getStore();
        const requestId = scope?.requestId ?? null;
        logger.error({ ...scope, err: error, requestId }, 'unexpected error in an operation');
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
  };
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
