import { join } from 'node:path';
import type { Logger } from 'pino';
import { SqliteTaskStore } from '../adapters/sqlite/sqlite-store.js';
import type { Config } from '../config/config.js';
import type { BatchStore } from '../core/batches.js';
import type { TaskEventTarget, WatchPresence } from '../core/events.js';
import type { TaskStore } from '../core/store.js';
import { LocalTenantLimiter, type TenantLimiter } from '../core/tenant-limits.js';
import type { WebhookStore } from '../core/webhooks.js';
import { SpacedBudget, type UpstreamBudget } from '../scheduler/budget.js';
import type { KeyLoad } from '../scheduler/key-pool.js';
import type { TaskAdoption } from '../scheduler/task-adoption.js';
import { LocalWaitingQueue, type WaitingQueue } from '../scheduler/waiting-queue.js';
import { tenantLimits } from './limits.js';
import { type PostgresCluster, postgresParts } from './postgres-parts.js';

/** What one PicWish key of the pool gets: its own budget and queue, and in a cluster its own election. */
export interface KeyParts {
  readonly budget: UpstreamBudget;
  readonly queue: WaitingQueue;
  /**
   * The key's load across the cluster, for the pool's choice of the shortest queue; absent when
   * this process drives all of the key's tasks, so its scheduler's own count is the load.
   */
  load?(): Promise<KeyLoad>;
  /** Who drives the key's tasks, when not all of them from the start (the PostgreSQL election). */
  readonly adoption?: TaskAdoption;
}

/** The parts several gateway processes share through PostgreSQL, or their one-process defaults. */
export interface SharedParts {
  /** PostgreSQL cluster mode (`DATABASE_URL`). */
  readonly postgres: PostgresCluster | null;
  readonly store: TaskStore;
  /** Batches (#15), kept by the same store as the tasks. */
  readonly batches: BatchStore;
  /** Webhook deliveries and secrets, in the tasks' database (a change and its deliveries commit together). */
  readonly webhooks: WebhookStore;
  readonly eventTarget: TaskEventTarget | undefined;
  /** In a cluster, the watchers on the other instances (a leader polls tasks watched there eagerly too). */
  readonly watchPresence: WatchPresence | undefined;
  /** The parts of key `keyId` among the pool's `keyIds` (configuration order); once per key. */
  forKey(keyId: string, keyIds: readonly string[]): KeyParts;
  /** With PostgreSQL the per-minute window is the cluster's, not each process's. */
  readonly limiter: TenantLimiter;
}

/**
 * The embedded-or-cluster choice, made once. With `DATABASE_URL`: PostgreSQL (postgres-parts.ts),
 * so any number of processes act as one gateway. Without: SQLite under DATA_DIR and in-process parts.
 */
export async function sharedParts(config: Config, logger: Logger): Promise<SharedParts> {
  if (config.databaseUrl) return postgresParts(config, config.databaseUrl, logger);

  const store = new SqliteTaskStore(join(config.dataDir, 'tasks.db'));
  return {
    postgres: null,
    store,
    batches: store,
    webhooks: store.webhooks,
    eventTarget: undefined,
    watchPresence: undefined,
    // One process: each key's scheduler keeps its own queue and budget in memory.
    forKey: () => ({ budget: new SpacedBudget(config.picwish.qps), queue: new LocalWaitingQueue() }),
    limiter: new LocalTenantLimiter(store, tenantLimits(config), tenantLimits(config).subject),
  };
}
