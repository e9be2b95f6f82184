import type { Server } from 'node:http';
import type { EventStreams } from '../http/event-streams.js';
import type { BlobStoreChoice } from './blob-store-choice.js';
import type { GatewayParts } from './parts.js';
import type { SharedParts } from './shared-part-types.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** How long a shutdown waits for requests in flight before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;
/** How often idle keep-alive connections are closed while draining. */
const IDLE_SWEEP_MS = 50;

/**
 * The shutdown order. Stop accepting connections (readiness already says so), end the SSE
 * streams so their clients reconnect elsewhere, let requests in flight finish, then stop the
 * scheduler — which hands the scheduler lock over to another instance — and the webhook dispatcher
 * (its tries under way finish), and only then close what they used: budget, upstream, fetchers,
 * store, blob store, PostgreSQL, and the local engine last.
 */
export async function shutDown(
  http: { readonly server: Server; readonly streams: EventStreams },
  parts: GatewayParts,
  shared: SharedParts,
  upstream: UpstreamChoice,
  blobStore: BlobStoreChoice,
): Promise<void> {
  await drainHttp(http.server, http.streams);
  await parts.retention.stop();
  await parts.scheduler.stop();
  await parts.webhooks.stop();
  for (const key of parts.picwishKeys) {
    key.budget.close();
    await key.upstream.close();
  }
  await parts.fetcher.close();
  await parts.imageUrls.close();
  await parts.webhookUrls.close();
  await shared.store.close();
  blobStore.close();
  await shared.postgres?.close();
  await upstream.engine?.close();
}

/** Resolves once the server is closed: idle connections at once, busy ones after DRAIN_TIMEOUT_MS. */
function drainHttp(server: Server, streams: EventStreams): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    streams.endAll();
    const idle = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    idle.unref();
    server.once('close', () => clearInterval(idle));
    setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS).unref();
  });
}
