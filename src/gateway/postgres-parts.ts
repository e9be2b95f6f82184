import type { Logger } from 'pino';
import { openPostgres } from '../adapters/postgres/connection.js';
import { ElectedAdoption } from '../adapters/postgres/elected-adoption.js';
import { migrate } from '../adapters/postgres/migrations.js';
import { PgTaskEventTarget } from '../adapters/postgres/pg-event-target.js';
import { pgKeyScope } from '../adapters/postgres/pg-key-scope.js';
import { PgTaskStore } from '../adapters/postgres/pg-store.js';
import { PgTenantLimiter } from '../adapters/postgres/pg-tenant-limits.js';
import { PgWaitingQueue } from '../adapters/postgres/pg-waiting-queue.js';
import { PgWatchPresence } from '../adapters/postgres/pg-watch-presence.js';
import { PgWebhookStore } from '../adapters/postgres/pg-webhooks.js';
import type { Config } from '../config/config.js';
import { SpacedBudget } from '../scheduler/budget.js';
import { tenantLimits } from './limits.js';
import type { PostgresCluster, SharedParts } from './shared-part-types.js';

/**
 * `DATABASE_URL`: tasks, tenant limits, queue positions, updates and who watches what between
 * instances in PostgreSQL (schema migrated first, under a lock); one elected scheduler per PicWish key drives
 * that key's tasks, so each key's QPS budget is the in-process one of its leader.
 */
export async function postgresParts(
  config: Config,
  url: string,
  logger: Logger,
): Promise<SharedParts & { readonly postgres: PostgresCluster }> {
  const connection = openPostgres(url, logger);
  await migrate(connection.pool);
  const limits = tenantLimits(config);
  const store = new PgTaskStore(connection.pool, { limits });
  const target = new PgTaskEventTarget({ url, pool: connection.pool, load: (id) => store.get(id), logger });
  await target.start();
  const watchPresence = new PgWatchPresence({ notices: target });
  watchPresence.start();
  const adoptions = new Map<string, ElectedAdoption>();
  return {
    postgres: {
      connection,
      adoptions,
      async close() {
        watchPresence.close();
        await target.close();
        await connection.close();
      },
    },
    store,
    batches: store,
    webhooks: new PgWebhookStore(connection.pool),
    eventTarget: target,
    watchPresence,
    forKey: (keyId, keyIds) => {
      const scope = pgKeyScope(keyId, keyIds);
      const queue = new PgWaitingQueue(connection.pool, scope, keyId);
      const adoption = new ElectedAdoption({
        url,
        store,
        logger,
        keyId,
        unfinishedIds: () => store.listUnfinishedIdsOf(scope),
        onAnnounced: (listener) => target.onTaskNotice(listener),
      });
      adoptions.set(keyId, adoption);
      return { budget: new SpacedBudget(config.picwish.qps), queue, load: () => queue.load(), adoption };
    },
    limiter: new PgTenantLimiter(connection.pool, limits),
  };
}
