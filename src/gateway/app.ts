import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { SceneType } from '../config/scene-types.js';
import { UploadSpool } from '../core/upload-spool.js';
import type { LocalEngine } from '../local-engine/index.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { startTracing } from '../observability/tracing.js';
import { withoutCredentials } from '../shared/secret-scrubbing.js';
import { chooseBlobStore } from './blob-store-choice.js';
import { listen } from './listen.js';
import { buildParts, type OutboundSeams } from './parts.js';
import { createReadiness } from './readiness.js';
import { sharedParts } from './shared-parts.js';
import { shutDown } from './shutdown.js';
import { buildTransports } from './transports.js';
import { chooseUpstream } from './upstream-choice.js';

/** A running gateway, as `main.ts` and the tests hold it. */
export interface Gateway {
  /** Where it listens, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly server: Server;
  readonly metrics: GatewayMetrics;
  /** The local engine, when no PicWish key was configured. */
  readonly engine: LocalEngine | null;
  /** Stops taking requests, lets steps in flight finish, closes everything. */
  close(): Promise<void>;
}

/** In a cluster another process may be spooling an upload right now: its recent files stay. */
const CLUSTER_SPOOL_GRACE_MS = 15 * 60 * 1000;

/**
 * The composition root's start-up order: the shared parts (embedded or cluster) and the upstream,
 * then the port — answering "starting" from its first connection on (listen.ts) — then the
 * wiring, the crash leftovers, adopting unfinished tasks, and only then the routes.
 */
export async function startGateway(
  config: Config,
  logger: Logger,
  sceneTypes: readonly SceneType[],
  outbound?: OutboundSeams,
): Promise<Gateway> {
  // Process-wide (the OpenTelemetry API is global): before anything that could start a span.
  const tracing = config.tracing ? startTracing(config.tracing) : null;
  const blobStore = chooseBlobStore(config);
  const spool = new UploadSpool(
    join(config.dataDir, 'spool'),
    config.picwish.maxImageBytes,
    blobStore.spoolMirror,
    config.picwish.decodeBudgetBytes,
  );
  const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const shared = await sharedParts(config, logger);
  const upstream = await chooseUpstream(config, sceneTypes, logger);
  const { server, url, serve } = await listen(config.port, config.host, config.http);
  const publicUrl = config.publicUrl ?? url;
  const parts = buildParts({
    config,
    logger,
    sceneTypes,
    shared,
    upstream,
    spool,
    blobs: blobStore.blobs,
    publicUrl,
    instanceId,
    outbound,
  });

  await spool.sweepOrphans(shared.store, shared.postgres ? CLUSTER_SPOOL_GRACE_MS : 0);
  await parts.scheduler.start();
  parts.retention.start();
  parts.webhooks.start();

  let draining = false;
  const readiness = createReadiness({
    config,
    instanceId,
    store: shared.store,
    postgres: shared.postgres,
    blobStore,
    upstream,
    draining: () => draining,
  });
  const { handler, streams } = buildTransports({ config, logger, parts, upstream, readiness });
  serve(handler);
  logger.info(
    { url, publicUrl, upstream: upstream.engine ? 'local-engine' : withoutCredentials(upstream.baseUrl) },
    'gateway listening',
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    server,
    metrics: parts.metrics,
    engine: upstream.engine,
    close: () => {
      draining = true;
      closing ??= shutDown({ server, streams }, parts, shared, upstream, blobStore).then(() =>
        tracing?.shutdown(),
      );
      return closing;
    },
  };
}
