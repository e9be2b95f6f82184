import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { loadTrustedDocuments } from '../graphql/plugins/use-trusted-documents.js';
import { createGatewayGraphiQL, createGatewayYoga } from '../graphql/yoga.js';
import { EventStreams } from '../http/event-streams.js';
import { LiveRoutes } from '../http/live/live-routes.js';
import { createOperatorCheck } from '../http/operator-access.js';
import { isLoopbackHostname } from '../http/origin-guard.js';
import { createRequestHandler, type Readiness } from '../http/server.js';
import { MAX_REQUEST_BODY_BYTES } from '../http/upload.js';
import type { GatewayParts } from './parts.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** The request handler of a started gateway and the open SSE streams a shutdown must end. */
export interface Transports {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly streams: EventStreams;
}

/** Wires Yoga, the live routes (every subscription transport) and the routes onto the parts: everything HTTP. */
export function buildTransports(options: {
  readonly config: Config;
  readonly logger: Logger;
  readonly parts: GatewayParts;
  readonly upstream: UpstreamChoice;
  readonly readiness: () => Promise<Readiness>;
}): Transports {
  const { config, logger, parts } = options;
  const { services, metrics, auth } = parts;
  const trustedOnly = config.persistedOperations?.only === true;
  const trustedDocuments = config.persistedOperations
    ? loadTrustedDocuments(config.persistedOperations.file)
    : undefined;
  // Every subscription transport, and finished-task reads answered from Yoga's earlier answer
  // (docs/benchmarks.md). GATEWAY_FAST_PATHS=off only stops equal subscriptions from sharing an
  // execution and turns the read cache off, for the benchmark's before/after comparison.
  const live = new LiveRoutes({
    services,
    metrics,
    logger,
    fastPaths: config.fastPaths,
    trustedOnly,
    trustedDocuments,
    corsOrigins: config.http.corsOrigins,
    streamReservations: {
      ttlMs: config.http.sseReservationTtlMs,
      perTenant: config.http.sseReservationsPerTenant,
    },
  });
  const graphiql = createGatewayGraphiQL();
  const yoga = createGatewayYoga({
    services,
    graphiql,
    logger,
    metrics,
    production: config.nodeEnv === 'production',
    plugins: live.plugins(),
    trustedDocuments: trustedDocuments ? { documents: trustedDocuments, only: trustedOnly } : undefined,
    corsOrigins: config.http.corsOrigins,
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
  });
  const streams = new EventStreams();
  const routes = createRequestHandler({
    yoga,
    auth,
    files: parts.renditions,
    signer: parts.signer,
    metrics,
    logger,
    readiness: options.readiness,
    operator: createOperatorCheck({ token: config.http.metricsToken, keysRequired: auth.required }),
    about: { engine: options.upstream.engine ? 'local' : 'picwish', apiKeyRequired: auth.required },
    // Without keys on loopback, nothing authenticates a request: keep other sites' pages out.
    localOnly:
      !auth.required && isLoopbackHostname(config.host) ? { publicUrl: config.publicUrl } : undefined,
    live,
    assets: graphiql.assets,
    streamsPerTenant: config.http.sseStreamsPerTenant,
    streamsPerSubject: config.http.sseStreamsPerSubject,
  });
  return {
    streams,
    handler: (req, res) => {
      streams.track(req, res);
      routes(req, res);
    },
  };
}
