import { join } from 'node:path';
import type { Logger } from 'pino';
import { SqliteTaskStore } from '../adapters/sqlite/sqlite-store.js';
import type { Config } from '../config/config.js';
import { LocalTenantLimiter } from '../core/tenant-limits.js';
import { SpacedBudget } from '../scheduler/budget.js';
import { LocalWaitingQueue } from '../scheduler/waiting-queue.js';
import { tenantLimits } from './limits.js';
import { postgresParts } from './postgres-parts.js';
import type { SharedParts } from './shared-part-types.js';

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
    limiter: new LocalTenantLimiter(store, tenantLimits(config)),
  };
}
