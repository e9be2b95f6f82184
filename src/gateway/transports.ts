import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { loadTrustedDocuments } from '../graphql/plugins/use-trusted-documents.js';
import { createGatewayGraphiQL, createGatewayYoga } from '../graphql/yoga.js';
import { EventStreams } from '../http/event-streams.js';
import { LiveShortcuts } from '../http/live/live-shortcuts.js';
import { createOperatorCheck } from '../http/operator-access.js';
import { isLoopbackHostname } from '../http/origin-guard.js';
import { createRequestHandler, type Readiness } from '../http/server.js';
import type { GatewayParts } from './parts.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** The request handler of a started gateway and the open SSE streams a shutdown must end. */
export interface Transports {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly streams: EventStreams;
}

/** Wires Yoga, the stream shortcuts and the routes onto the parts: everything HTTP. */
export function buildTransports(options: {
  readonly config: Config;
  readonly logger: Logger;
  readonly parts: GatewayParts;
  readonly upstream: UpstreamChoice;
  readonly readiness: () => Promise<Readiness>;
}): Transports {
  const { config, logger, parts } = options;
  const { services, metrics, auth } = parts;
  // Shortcuts past Yoga for finished-task reads and live task streams (docs/benchmarks.md);
  // GATEWAY_FAST_PATHS=off turns them off, for the benchmark's before/after comparison.
  // They answer query texts without Yoga's parser, so they are off when only trusted documents may run.
  const trustedOnly = config.persistedOperations?.only === true;
  const shortcuts =
    config.fastPaths && !trustedOnly
      ? new LiveShortcuts({
          services,
          metrics,
          logger,
          corsOrigins: config.http.corsOrigins,
          streamReservations: {
            ttlMs: config.http.sseReservationTtlMs,
            perTenant: config.http.sseReservationsPerTenant,
          },
        })
      : undefined;
  const graphiql = createGatewayGraphiQL();
  const yoga = createGatewayYoga({
    services,
    graphiql,
    logger,
    metrics,
    production: config.nodeEnv === 'production',
    plugins: shortcuts?.plugins() ?? [],
    trustedDocuments: config.persistedOperations
      ? { documents: loadTrustedDocuments(config.persistedOperations.file), only: trustedOnly }
      : undefined,
    corsOrigins: config.http.corsOrigins,
    streamReservations: {
      ttlMs: config.http.sseReservationTtlMs,
      perTenant: config.http.sseReservationsPerTenant,
    },
  });
  const streams = new EventStreams();
  const routes = createRequestHandler({
    yoga,
    auth,
    blobs: parts.blobs,
    signer: parts.signer,
    metrics,
    logger,
    readiness: options.readiness,
    operator: createOperatorCheck({ token: config.http.metricsToken, keysRequired: auth.required }),
    about: { engine: options.upstream.engine ? 'local' : 'picwish', apiKeyRequired: auth.required },
    // Without keys on loopback, nothing authenticates a request: keep other sites' pages out.
    localOnly:
      !auth.required && isLoopbackHostname(config.host) ? { publicUrl: config.publicUrl } : undefined,
    shortcuts,
    assets: graphiql.assets,
  });
  return {
    streams,
    handler: (req, res) => {
      streams.track(req, res);
      routes(req, res);
    },
  };
}
