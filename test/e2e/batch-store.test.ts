import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/postgres/connection.js';
import { PgTaskStore } from '../../src/adapters/postgres/pg-store.js';
import { SqliteTaskStore } from '../../src/adapters/sqlite/sqlite-store.js';
import type { Batch, BatchStore } from '../../src/core/batches.js';
import { IdempotencyConflictError } from '../../src/core/store.js';
import { useMigratedDatabase } from '../support/pg-db.js';

/** Issue #15 item 3: what SQLite and PostgreSQL keep of a batch, and the key's window. */

const DAY_MS = 24 * 60 * 60 * 1000;

function batch(overrides: Partial<Batch> = {}): Batch {
  return {
    id: `batch-${Math.random().toString(36).slice(2)}`,
    tenantId: 'alpha',
    createdAt: Date.now(),
    idempotencyKey: null,
    inputHash: 'hash',
    items: null,
    ...overrides,
  };
}

function describeBatchStore(name: string, open: () => Promise<BatchStore>): void {
  describe(`${name} batch records`, () => {
    it('keep a reserved batch, then its items, and find it by key within 24 hours only', async () => {
      const store = await open();
      const reserved = batch({ idempotencyKey: 'key\u0000with nul' });
      await store.insertBatch(reserved);
      expect(await store.getBatch(reserved.id)).toEqual(reserved);
      const items = [
        { taskId: 't1' },
        { refusal: { kind: 'RATE_LIMITED', message: 'm', retryAfterSeconds: 3 } },
      ] as const;
      await store.fillBatch(reserved.id, items);
      expect((await store.getBatch(reserved.id))?.items).toEqual(items);
      const now = Date.now();
      expect(
        (
          await store.findBatchByIdempotencyKey(
            { tenantId: 'alpha', subject: null },
            'key\u0000with nul',
            now - DAY_MS,
          )
        )?.id,
      ).toBe(reserved.id);
      expect(
        await store.findBatchByIdempotencyKey(
          { tenantId: 'beta', subject: null },
          'key\u0000with nul',
          now - DAY_MS,
        ),
      ).toBeNull();
      expect(
        await store.findBatchByIdempotencyKey(
          { tenantId: 'alpha', subject: null },
          'key\u0000with nul',
          now + 1,
        ),
      ).toBeNull();
    });

    it('drop batches older than the retention cutoff and keep newer ones', async () => {
      const store = await open();
      const old = batch({ createdAt: Date.now() - 10 * DAY_MS, items: [] });
      const recent = batch({ items: [] });
      await store.insertBatch(old);
      await store.insertBatch(recent);
      expect(await store.deleteBatchesBefore(Date.now() - DAY_MS)).toBeGreaterThanOrEqual(1);
      expect(await store.getBatch(old.id)).toBeNull();
      expect(await store.getBatch(recent.id)).not.toBeNull();
    });
  });
}

describeBatchStore('SQLite', async () => new SqliteTaskStore(':memory:'));

const silent = pino({ level: 'silent' });
const postgres = useMigratedDatabase();

describeBatchStore('PostgreSQL', async () => new PgTaskStore(postgres.db.pool));

describe('PostgreSQL batch keys across instances', () => {
  it('let only one of two instances reserve a batch under one key; the other learns which batch holds it', async () => {
    const other = openPostgres(postgres.url, silent);
    try {
      const stores = [new PgTaskStore(postgres.db.pool), new PgTaskStore(other.pool)];
      const attempts = stores.map((store) =>
        store.insertBatch(batch({ tenantId: 'race', idempotencyKey: 'same' })),
      );
      const outcomes = await Promise.allSettled(attempts);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(IdempotencyConflictError);
    } finally {
      await other.close();
    }
  });
});
