import type { RedisConnections } from '../adapters/redis/connections.js';
import type { Config } from '../config/config.js';
import type { TaskStore } from '../core/store.js';
import type { Readiness } from '../http/server.js';
import { withoutCredentials } from '../shared/secrets.js';
import type { BlobStoreChoice } from './blob-store-choice.js';
import type { PostgresCluster } from './postgres-parts.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** How long /readyz waits for the store or the blob store before calling it unreachable. */
const STORE_PING_TIMEOUT_MS = 1_000;

/**
 * The /readyz answer of a started gateway: which store, Redis, blob store and upstream it runs on
 * and whether they answer, and not ready once it is shutting down (so load balancers stop sending
 * traffic).
 * Before the gateway has started, http/starting.ts answers instead.
 */
export function createReadiness(deps: {
  readonly config: Config;
  readonly instanceId: string;
  readonly store: TaskStore;
  readonly redis: RedisConnections | null;
  readonly postgres: PostgresCluster | null;
  readonly blobStore: BlobStoreChoice;
  readonly upstream: UpstreamChoice;
  readonly draining: () => boolean;
}): () => Promise<Readiness> {
  const { config, redis, postgres, upstream } = deps;
  const budget = redis ? 'cluster' : 'process';
  const storeKind = postgres ? 'postgres' : redis ? 'redis' : 'sqlite';
  const upstreamCheck = upstream.engine
    ? { kind: 'local-engine', qps: config.picwish.qps, budget }
    : { kind: 'picwish', baseUrl: withoutCredentials(upstream.baseUrl), qps: config.picwish.qps, budget };
  return async () => {
    const [storeOk, redisOk, blobsOk] = await Promise.all([
      withTimeout(deps.store.ping(), STORE_PING_TIMEOUT_MS, false),
      redis ? redis.ping() : Promise.resolve(null),
      withTimeout(deps.blobStore.ping(), STORE_PING_TIMEOUT_MS, false),
    ]);
    const draining = deps.draining();
    const checks = {
      instance: deps.instanceId,
      store: { kind: storeKind, ok: storeOk },
      ...(postgres ? { scheduler: { elected: true, leader: postgres.adoption.leading } } : {}),
      redis: redis ? { ok: redisOk } : { configured: false },
      blobStore: { kind: deps.blobStore.kind, ok: blobsOk },
      upstream: upstreamCheck,
      draining,
    };
    const problems: Record<string, string> = {};
    if (!storeOk) problems.store = 'unreachable';
    if (redisOk === false) problems.redis = 'unreachable';
    if (!blobsOk) problems.blobStore = 'unreachable';
    if (draining) problems.gateway = 'shutting down';
    return { ready: Object.keys(problems).length === 0, checks, problems };
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
