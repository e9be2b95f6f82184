import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { openPostgres, type PgConnection } from '../adapters/postgres/connection.js';
import { ElectedAdoption } from '../adapters/postgres/elected-adoption.js';
import { migrate } from '../adapters/postgres/migrations.js';
import { PgTaskEventTarget } from '../adapters/postgres/pg-event-target.js';
import { PgTaskStore } from '../adapters/postgres/pg-store.js';
import { PgTenantLimiter } from '../adapters/postgres/pg-tenant-limits.js';
import { PgWaitingQueue } from '../adapters/postgres/pg-waiting-queue.js';
import type { Config } from '../config/config.js';
import { SpacedBudget } from '../scheduler/budget.js';
import type { SharedParts } from './shared-parts.js';

/** What the PostgreSQL cluster mode adds to the shared parts: its connections, to report and close. */
export interface PostgresCluster {
  readonly connection: PgConnection;
  readonly adoption: ElectedAdoption;
  close(): Promise<void>;
}

/** Names a PicWish key without revealing it: in logs, locks and (later) on tasks. */
export function picwishKeyId(apiKey: string | null): string {
  return createHash('sha256')
    .update(apiKey ?? 'local-engine')
    .digest('hex')
    .slice(0, 16);
}

/**
 * `DATABASE_URL`: tasks, tenant limits, queue positions and updates between instances in
 * PostgreSQL (schema migrated first, under a lock); one elected scheduler drives the PicWish key,
 * so the QPS budget is the in-process one.
 */
export async function postgresParts(
  config: Config,
  url: string,
  logger: Logger,
): Promise<SharedParts & { readonly postgres: PostgresCluster }> {
  const connection = openPostgres(url, logger);
  await migrate(connection.pool);
  const limits = { perMinute: config.auth.rateLimitPerMinute, maxActive: config.auth.maxActiveTasks };
  const store = new PgTaskStore(connection.pool, { limits });
  const target = new PgTaskEventTarget({ url, pool: connection.pool, load: (id) => store.get(id), logger });
  await target.start();
  const adoption = new ElectedAdoption({
    url,
    store,
    logger,
    keyId: picwishKeyId(config.picwish.apiKey),
    onAnnounced: (listener) => target.onTaskNotice(listener),
  });
  return {
    postgres: {
      connection,
      adoption,
      async close() {
        await target.close();
        await connection.close();
      },
    },
    store,
    eventTarget: target,
    budget: new SpacedBudget(config.picwish.qps),
    adoption,
    queue: new PgWaitingQueue(connection.pool),
    limiter: new PgTenantLimiter(connection.pool, limits),
  };
}
