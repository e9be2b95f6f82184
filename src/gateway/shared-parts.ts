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
import type { Config } from '../config/config.js';
import type { TaskEventTarget } from '../core/events.js';
import type { TaskStore } from '../core/store.js';
import { LocalTenantLimiter, type TenantLimiter } from '../core/tenant-limits.js';
import { SpacedBudget, type UpstreamBudget } from '../scheduler/budget.js';
import {
  LocalOwnership,
  LocalWaitingQueue,
  type TaskOwnership,
  type WaitingQueue,
  type WatcherProbe,
} from '../scheduler/ownership.js';
import type { TaskAdoption } from '../scheduler/task-adoption.js';
import { type PostgresCluster, postgresParts } from './postgres-parts.js';

/** The parts several gateway processes share through Redis, or their one-process defaults. */
export interface SharedParts {
  readonly redis: RedisConnections | null;
  /** PostgreSQL cluster mode (`DATABASE_URL`). */
  readonly postgres: PostgresCluster | null;
  /** Who drives which task, when not per-task leases from `ownership` (the PostgreSQL election). */
  readonly adoption?: TaskAdoption;
  readonly store: TaskStore;
  readonly eventTarget: TaskEventTarget | undefined;
  readonly budget: UpstreamBudget;
  readonly ownership: TaskOwnership;
  readonly queue: WaitingQueue;
  readonly watchers: WatcherProbe | undefined;
  /** With Redis the per-minute window is the cluster's, not each process's. */
  readonly limiter: TenantLimiter;
}

/**
 * The embedded-or-cluster choice, made once. With `DATABASE_URL`: PostgreSQL (postgres-parts.ts).
 * With `REDIS_URL`: tasks, pub/sub, the waiting queue,
 * the PicWish budget, poll ownership and tenant limits live in Redis, so any number of processes
 * act as one gateway. Without: SQLite under DATA_DIR and in-process parts.
 */
export async function sharedParts(config: Config, logger: Logger, instanceId: string): Promise<SharedParts> {
  const { rateLimitPerMinute, maxActiveTasks } = config.auth;
  if (config.databaseUrl) return postgresParts(config, config.databaseUrl, logger);
  if (!config.redisUrl) {
    const store = new SqliteTaskStore(join(config.dataDir, 'tasks.db'));
    return {
      redis: null,
      postgres: null,
      store,
      eventTarget: undefined,
      budget: new SpacedBudget(config.picwish.qps),
      ownership: new LocalOwnership(),
      queue: new LocalWaitingQueue(),
      watchers: undefined,
      limiter: new LocalTenantLimiter(store, rateLimitPerMinute, maxActiveTasks),
    };
  }
  const redis = await connectRedis(config.redisUrl, logger);
  const store = new RedisTaskStore(redis.commands, redis.prefix);
  return {
    redis,
    postgres: null,
    store,
    eventTarget: createTaskEventTarget(redis, logger),
    budget: new RedisBudget(redis.commands, redis.prefix, {
      qps: config.picwish.qps,
      callTimeoutMs: config.picwish.timeoutMs,
      logger,
    }),
    ownership: new RedisLeases(redis.commands, redis.prefix, { instanceId, logger }),
    queue: new RedisWaitingQueue(redis.commands, redis.prefix, logger),
    watchers: createWatcherProbe(redis),
    limiter: new RedisTenantLimiter(redis.commands, redis.prefix, store, rateLimitPerMinute, maxActiveTasks),
  };
}
