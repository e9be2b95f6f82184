import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { GatewayKeys } from './auth/gateway-keys.js';
import type { Config } from './config/config.js';
import type { SceneType } from './config/scene-types.js';
import { type LocalEngine, startLocalEngine } from './engine/index.js';
import { isLoopbackHostname } from './http/origin-guard.js';
import { createRequestHandler } from './http/server.js';
import { createGatewayYoga } from './http/yoga.js';
import { GatewayMetrics } from './metrics.js';
import { ResultFetcher } from './results/fetcher.js';
import { FsBlobStore } from './results/fs-blob-store.js';
import { RetentionSweeper } from './results/retention.js';
import { UrlSigner } from './results/signer.js';
import { SpacedBudget } from './tasks/budget.js';
import { TaskEvents } from './tasks/events.js';
import { TaskLedger } from './tasks/ledger.js';
import { TaskScheduler } from './tasks/scheduler.js';
import { TaskService } from './tasks/service.js';
import { SqliteTaskStore } from './tasks/sqlite-store.js';
import { LocalTenantLimiter } from './tasks/tenant-limits.js';
import { PicWishClient } from './upstream/client.js';

/** A running gateway, as `main.ts` and the tests hold it. */
export interface Gateway {
  /** Where it listens, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly server: Server;
  readonly scheduler: TaskScheduler;
  readonly metrics: GatewayMetrics;
  /** The local engine, when no PicWish key was configured. */
  readonly engine: LocalEngine | null;
  /** Stops taking requests, lets steps in flight finish, closes everything. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every part from the configuration and wires them together. This
 * is the only module that knows all the concrete classes.
 */
export async function startGateway(
  config: Config,
  logger: Logger,
  sceneTypes: readonly SceneType[],
): Promise<Gateway> {
  const spoolDir = join(config.dataDir, 'spool');
  mkdirSync(spoolDir, { recursive: true });
  const blobs = new FsBlobStore(join(config.dataDir, 'blobs'));
  const store = new SqliteTaskStore(join(config.dataDir, 'tasks.db'));

  let engine: LocalEngine | null = null;
  let upstreamBase = config.picwish.baseUrl;
  let upstreamKey = config.picwish.apiKey;
  if (upstreamKey === null) {
    engine = await startLocalEngine({ sceneTypes, durationMs: config.engine.durationMs });
    upstreamBase = engine.url;
    upstreamKey = engine.apiKey;
    logger.warn(
      { engineUrl: engine.url },
      'No PICWISH_API_KEY: using the built-in LOCAL engine. It composes simple generated backdrops and is NOT AI; set PICWISH_API_KEY for real PicWish results.',
    );
  }

  const server = createServer();
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const publicUrl = config.publicUrl ?? url;

  const metrics = new GatewayMetrics();
  const events = new TaskEvents();
  metrics.countSubscriptionsWith(() => events.totalWatchers());
  const ledger = new TaskLedger(store, events);
  const budget = new SpacedBudget(config.picwish.qps);
  const upstream = new PicWishClient({
    baseUrl: upstreamBase,
    apiKey: upstreamKey as string,
    timeoutMs: config.picwish.timeoutMs,
  });
  const fetcher = new ResultFetcher(blobs, {
    timeoutMs: config.picwish.timeoutMs,
    maxBytes: 25 * 1024 * 1024,
  });
  const scheduler = new TaskScheduler({ ledger, events, upstream, budget, fetcher, logger, metrics });
  const limiter = new LocalTenantLimiter(store, config.auth.rateLimitPerMinute, config.auth.maxActiveTasks);
  const tasks = new TaskService(ledger, scheduler, blobs, limiter, {
    spoolDir,
    taskDeadlineMs: config.picwish.taskDeadlineMs,
    onCreated: () => metrics.tasksCreated.inc(),
  });
  const signer = new UrlSigner(signingSecret(config), publicUrl, config.files.urlTtlSeconds);
  const keys = new GatewayKeys(config.auth.apiKeys);

  await removeOrphanSpoolFiles(spoolDir, store);
  await scheduler.start();
  const retention = new RetentionSweeper(
    {
      store,
      purge: async (task) => {
        await tasks.delete(task.tenantId, task.id);
      },
      logger,
    },
    config.files.retentionDays * 24 * 60 * 60 * 1000,
  );
  retention.start();

  const yoga = createGatewayYoga({
    services: { tasks, scheduler, events, signer, sceneTypes },
    logger,
    metrics,
    production: config.nodeEnv === 'production',
  });
  server.on(
    'request',
    createRequestHandler({
      yoga,
      keys,
      blobs,
      signer,
      metrics,
      logger,
      readiness: async () => ((await store.ping()) ? null : { store: 'unreachable' }),
      about: { engine: engine ? 'local' : 'picwish', apiKeyRequired: keys.required },
      // Without keys on loopback, nothing authenticates a request: keep other sites' pages out.
      localOnly:
        !keys.required && isLoopbackHostname(config.host) ? { publicUrl: config.publicUrl } : undefined,
    }),
  );
  logger.info({ url, publicUrl, upstream: engine ? 'local-engine' : upstreamBase }, 'gateway listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    server,
    scheduler,
    metrics,
    engine,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // SSE streams never go idle by themselves; end them so clients reconnect elsewhere.
          setTimeout(() => server.closeAllConnections(), 250).unref();
        });
        await retention.stop();
        await scheduler.stop();
        budget.close();
        await upstream.close();
        await fetcher.close();
        await store.close();
        await engine?.close();
      })();
      return closing;
    },
  };
}

/**
 * The HMAC secret for result links: configured, or generated once and kept under DATA_DIR so
 * links survive a restart.
 */
function signingSecret(config: Config): string {
  if (config.files.signingSecret) return config.files.signingSecret;
  const file = join(config.dataDir, 'files-signing-secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch {
    // Not there yet: generate it below.
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Uploads whose task is gone or finished are leftovers of a crash; the spool holds nothing else. */
async function removeOrphanSpoolFiles(spoolDir: string, store: SqliteTaskStore): Promise<void> {
  const live = new Set<string>();
  for (const task of await store.listUnfinished()) {
    if (task.source.kind === 'file') live.add(task.source.spoolPath);
  }
  for (const name of readdirSync(spoolDir)) {
    const path = join(spoolDir, name);
    if (!live.has(path)) rmSync(path, { force: true });
  }
}
