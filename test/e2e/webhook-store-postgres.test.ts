import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/postgres/connection.js';
import { PgTaskStore } from '../../src/adapters/postgres/pg-store.js';
import { PgWebhookStore } from '../../src/adapters/postgres/pg-webhooks.js';
import { deliveriesFor } from '../../src/core/webhooks.js';
import { useMigratedDatabase } from '../support/pg-db.js';
import { sampleTask } from '../support/store-contract.js';
import { describeWebhookStoreContract } from '../support/webhook-store-contract.js';

const silent = pino({ level: 'silent' });
const postgres = useMigratedDatabase();

async function empty(): Promise<void> {
  await postgres.db.pool.query('truncate tasks, webhook_deliveries, webhook_secrets');
}

describeWebhookStoreContract('PostgreSQL', async () => {
  await empty();
  return {
    tasks: new PgTaskStore(postgres.db.pool),
    webhooks: new PgWebhookStore(postgres.db.pool),
    async dispose() {},
  };
});

describe('PgWebhookStore across instances', () => {
  it('never hands one due row to two instances claiming at the same moment (FOR UPDATE SKIP LOCKED)', async () => {
    await empty();
    const tasks = new PgTaskStore(postgres.db.pool);
    for (let i = 0; i < 40; i++) {
      const task = sampleTask({ webhook: { url: 'https://hooks.example/h', events: ['QUEUED'] } });
      await tasks.insert(task, deliveriesFor(null, task));
    }
    const pools = Array.from({ length: 4 }, () => openPostgres(postgres.url, silent));
    try {
      const now = Date.now() + 1_000;
      const rounds = await Promise.all(
        pools.flatMap((pool, instance) =>
          Array.from({ length: 5 }, () =>
            new PgWebhookStore(pool.pool).claimDue(now, 3, 60_000, `i${instance}`, 1_000),
          ),
        ),
      );
      const ids = rounds.flat().map((delivery) => delivery.id);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
  });
});
