import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  connectRedis,
  createTaskEventTarget,
  createWatcherProbe,
  type RedisConnections,
} from '../adapters/redis/connections.js';
import { RedisLeases } from '../adapters/redis/leases.js';
import { RedisBudget } from '../adapters/redis/redis-budget.js';
import { RedisWaitingQueue } from '../adapters/redis/redis-queue.js';
import { RedisTaskStore } from '../adapters/redis/redis-store.js';
import { RedisTenantLimiter } from '../adapters/redis/redis-tenant-limits.js';
import { SqliteTaskStore } from '../adapters/sqlite/sqlite-store.js';
import { GatewayKeys } from '../auth/gateway-keys.js';
import type { Config } from '../config/config.js';
import type { SceneType } from '../config/scene-types.js';
import { TaskEvents, type TaskEventTarget } from '../core/events.js';
import { TaskLedger } from '../core/ledger.js';
import { RetentionSweeper } from '../core/retention.js';
import { TaskService } from '../core/service.js';
import type { TaskStore } from '../core/store.js';
import { LocalTenantLimiter } from '../core/tenant-limits.js';
import { schema } from '../graphql/schema/index.js';
import { createGatewayYoga } from '../graphql/yoga.js';
import { EventStreams } from '../http/event-streams.js';
import { FastPaths } from '../http/live/fast-paths.js';
import { isLoopbackHostname } from '../http/origin-guard.js';
import { createRequestHandler } from '../http/server.js';
import { type LocalEngine, startLocalEngine } from '../local-engine/index.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { ResultFetcher } from '../results/fetcher.js';
import { FsBlobStore } from '../results/fs-blob-store.js';
import { UrlSigner } from '../results/signer.js';
import { SpacedBudget, type UpstreamBudget } from '../scheduler/budget.js';
import {
  LocalOwnership,
  LocalWaitingQueue,
  type TaskOwnership,
  type WaitingQueue,
  type WatcherProbe,
} from '../scheduler/ownership.js';
import { TaskScheduler } from '../scheduler/scheduler.js';
import { PicWishClient } from '../upstream/client.js';

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
  const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const shared = await sharedParts(config, logger, instanceId);
  const { store } = shared;

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
  const events = new TaskEvents(shared.eventTarget);
  metrics.countSubscriptionsWith(() => events.totalWatchers());
  const ledger = new TaskLedger(store, events);
  const { budget } = shared;
  const upstream = new PicWishClient({
    baseUrl: upstreamBase,
    apiKey: upstreamKey as string,
    timeoutMs: config.picwish.timeoutMs,
  });
  const fetcher = new ResultFetcher(blobs, {
    timeoutMs: config.picwish.timeoutMs,
    maxBytes: 25 * 1024 * 1024,
  });
  const scheduler = new TaskScheduler({
    ledger,
    events,
    upstream,
    budget,
    fetcher,
    logger,
    metrics,
    ownership: shared.ownership,
    queue: shared.queue,
    watchers: shared.watchers,
  });
  // With Redis the per-minute window is the cluster's, not each process's.
  const limiter = shared.redis
    ? new RedisTenantLimiter(
        shared.redis.commands,
        shared.redis.prefix,
        store,
        config.auth.rateLimitPerMinute,
        config.auth.maxActiveTasks,
      )
    : new LocalTenantLimiter(store, config.auth.rateLimitPerMinute, config.auth.maxActiveTasks);
  const tasks = new TaskService(ledger, scheduler, blobs, limiter, {
    spoolDir,
    taskDeadlineMs: config.picwish.taskDeadlineMs,
    onCreated: () => metrics.tasksCreated.inc(),
  });
  const signer = new UrlSigner(signingSecret(config), publicUrl, config.files.urlTtlSeconds);
  const keys = new GatewayKeys(config.auth.apiKeys);

  // In a cluster another process may be spooling an upload right now: leave recent files alone.
  await removeOrphanSpoolFiles(spoolDir, store, shared.redis ? 15 * 60 * 1000 : 0);
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

  const services = { tasks, scheduler, events, signer, sceneTypes };
  // Shortcuts past Yoga for finished-task reads and live task streams (docs/benchmarks.md);
  // GATEWAY_FAST_PATHS=off turns them off, for the benchmark's before/after comparison.
  const fastPaths = config.fastPaths ? new FastPaths({ schema, services, metrics, logger }) : undefined;
  const yoga = createGatewayYoga({
    services,
    logger,
    metrics,
    production: config.nodeEnv === 'production',
    fastPaths,
  });
  let draining = false;
  const streams = new EventStreams();
  const handler = createRequestHandler({
    yoga,
    keys,
    blobs,
    signer,
    metrics,
    logger,
    readiness: async () => {
      const [storeOk, redisOk] = await Promise.all([
        withTimeout(store.ping(), 1_000, false),
        shared.redis ? shared.redis.ping() : Promise.resolve(null),
      ]);
      const checks = {
        instance: instanceId,
        store: { kind: shared.redis ? 'redis' : 'sqlite', ok: storeOk },
        redis: shared.redis ? { ok: redisOk } : { configured: false },
        upstream: engine
          ? { kind: 'local-engine', qps: config.picwish.qps, budget: shared.redis ? 'cluster' : 'process' }
          : {
              kind: 'picwish',
              baseUrl: upstreamBase,
              qps: config.picwish.qps,
              budget: shared.redis ? 'cluster' : 'process',
            },
        draining,
      };
      const problems: Record<string, string> = {};
      if (!storeOk) problems.store = 'unreachable';
      if (redisOk === false) problems.redis = 'unreachable';
      if (draining) problems.gateway = 'shutting down';
      return { ready: Object.keys(problems).length === 0, checks, problems };
    },
    about: { engine: engine ? 'local' : 'picwish', apiKeyRequired: keys.required },
    // Without keys on loopback, nothing authenticates a request: keep other sites' pages out.
    localOnly:
      !keys.required && isLoopbackHostname(config.host) ? { publicUrl: config.publicUrl } : undefined,
    fastPaths,
  });
  server.on('request', (req, res) => {
    streams.track(req, res);
    handler(req, res);
  });
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
        // Stop accepting connections (and tell load balancers), end the SSE streams so their
        // clients reconnect elsewhere, let requests in flight finish, then stop the scheduler,
        // which hands its task leases over to the other instances.
        draining = true;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          streams.endAll();
          const idle = setInterval(() => server.closeIdleConnections(), 50);
          idle.unref();
          server.once('close', () => clearInterval(idle));
          setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS).unref();
        });
        await retention.stop();
        await scheduler.stop();
        budget.close();
        await upstream.close();
        await fetcher.close();
        await store.close();
        await shared.redis?.close();
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
  try {
    // Exclusive create: instances of a cluster starting together on one DATA_DIR agree on one secret.
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
}

/** Uploads whose task is gone or finished are leftovers of a crash; the spool holds nothing else. */
async function removeOrphanSpoolFiles(spoolDir: string, store: TaskStore, graceMs: number): Promise<void> {
  const live = new Set<string>();
  for (const task of await store.listUnfinished()) {
    if (task.source.kind === 'file') live.add(task.source.spoolPath);
  }
  const cutoff = Date.now() - graceMs;
  for (const name of readdirSync(spoolDir)) {
    const path = join(spoolDir, name);
    if (live.has(path)) continue;
    if (graceMs > 0 && (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > cutoff) continue;
    rmSync(path, { force: true });
  }
}

/** How long a shutdown waits for requests in flight before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

/** The parts several gateway processes share through Redis, or their one-process defaults. */
interface SharedParts {
  readonly redis: RedisConnections | null;
  readonly store: TaskStore;
  readonly eventTarget: TaskEventTarget | undefined;
  readonly budget: UpstreamBudget;
  readonly ownership: TaskOwnership;
  readonly queue: WaitingQueue;
  readonly watchers: WatcherProbe | undefined;
}

/**
 * With `REDIS_URL`: tasks, pub/sub, the waiting queue, the PicWish budget and poll ownership live
 * in Redis, so any number of processes act as one gateway. Without: SQLite under DATA_DIR and
 * in-process parts.
 */
async function sharedParts(config: Config, logger: Logger, instanceId: string): Promise<SharedParts> {
  if (!config.redisUrl) {
    return {
      redis: null,
      store: new SqliteTaskStore(join(config.dataDir, 'tasks.db')),
      eventTarget: undefined,
      budget: new SpacedBudget(config.picwish.qps),
      ownership: new LocalOwnership(),
      queue: new LocalWaitingQueue(),
      watchers: undefined,
    };
  }
  const redis = await connectRedis(config.redisUrl, logger);
  return {
    redis,
    store: new RedisTaskStore(redis.commands, redis.prefix),
    eventTarget: createTaskEventTarget(redis, logger),
    budget: new RedisBudget(redis.commands, redis.prefix, {
      qps: config.picwish.qps,
      callTimeoutMs: config.picwish.timeoutMs,
      logger,
    }),
    ownership: new RedisLeases(redis.commands, redis.prefix, { instanceId, logger }),
    queue: new RedisWaitingQueue(redis.commands, redis.prefix, logger),
    watchers: createWatcherProbe(redis),
  };
}

/** `promise`, or `fallback` if it has not settled (or failed) within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.catch(() => fallback),
      new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
