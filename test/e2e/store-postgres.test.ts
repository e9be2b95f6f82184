import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openPostgres, type PgConnection } from '../../src/adapters/postgres/connection.js';
import { MIGRATIONS, migrate } from '../../src/adapters/postgres/migrations.js';
import { PgTaskStore } from '../../src/adapters/postgres/pg-store.js';
import { PgTenantLimiter } from '../../src/adapters/postgres/pg-tenant-limits.js';
import { creditDay } from '../../src/core/credits.js';
import { IdempotencyConflictError } from '../../src/core/store.js';
import { TenantLimitError, uncapped } from '../../src/core/tenant-limits.js';
import { createTestDatabase, useMigratedDatabase } from '../support/pg-db.js';
import { describeTaskStoreContract, sampleTask } from '../support/store-contract.js';

const silent = pino({ level: 'silent' });
const PRICES = { perImage: 3, cutout: 1 };
const UNCAPPED = uncapped(PRICES);
const ONE_IMAGE = { images: 1, cutouts: 0 };
const postgres = useMigratedDatabase();

describeTaskStoreContract('PostgreSQL', async () => {
  await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
  return { store: new PgTaskStore(postgres.db.pool), async dispose() {} };
});

/** A second gateway instance: its own pool on the same database. */
function otherInstance(): PgConnection {
  return openPostgres(postgres.url, silent);
}

describe('PostgreSQL schema migrations', () => {
  it('apply once when several instances start at the same moment', async () => {
    const fresh = await createTestDatabase();
    const pools = Array.from({ length: 3 }, () => openPostgres(fresh.url, silent));
    try {
      const applied = await Promise.all(pools.map((each) => migrate(each.pool)));
      expect(applied.flat().sort((a, b) => a - b)).toEqual(MIGRATIONS.map((step) => step.version));
      const [first] = pools as [PgConnection];
      expect(await migrate(first.pool)).toEqual([]);
      const { rows } = await first.pool.query('select version from schema_migrations');
      expect(rows).toHaveLength(MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((each) => each.close()));
      await fresh.drop();
    }
  });
});

describe('PostgreSQL usage migration', () => {
  it('counts the images and stored cutouts of tasks stored before it, and holds credits for today’s, NUL escapes in their documents included', async () => {
    const fresh = await createTestDatabase();
    const old = openPostgres(fresh.url, silent);
    try {
      // The schema as version 2 left it, holding tasks written then.
      await old.pool.query(
        'create table schema_migrations (version integer primary key, applied_at timestamptz not null default now())',
      );
      for (const step of MIGRATIONS.filter((each) => each.version <= 2)) {
        await old.pool.query(step.sql);
        await old.pool.query('insert into schema_migrations (version) values ($1)', [step.version]);
      }
      const image = { key: 'tasks/x/1.png', width: 8, height: 8, contentType: 'image/png', bytes: 9 };
      const tasks = [
        sampleTask({ state: 'SUCCEEDED', images: [image, image], prompt: 'nul \u0000 and \\u0000' }),
        sampleTask({ state: 'SUCCEEDED', images: [image] }),
        sampleTask({ state: 'FAILED' }),
        // A cutout charged before the generation failed; its NUL escape must not stop the count.
        sampleTask({
          state: 'FAILED',
          cutout: { status: 'stored', image },
          prompt: 'nul \u0000 and \\u0000',
        }),
      ];
      // Today's tasks get their holds on the daily credit caps (#25): an unfinished one its estimate
      // (2 images and its cutout), a final one its charge.
      const today = [
        sampleTask({
          createdAt: Date.now(),
          cutout: { status: 'waiting' },
          prompt: 'nul \u0000 and \\u0000',
        }),
        sampleTask({ createdAt: Date.now(), state: 'SUCCEEDED', images: [image] }),
      ];
      for (const task of [...tasks, ...today]) {
        await old.pool.query(
          `insert into tasks (id, tenant_id, state, version, created_at, doc) values ($1, $2, $3, $4, $5, $6::json)`,
          [task.id, task.tenantId, task.state, task.version, task.createdAt, JSON.stringify(task)],
        );
      }
      expect(await migrate(old.pool)).toEqual(
        MIGRATIONS.filter((each) => each.version > 2).map((each) => each.version),
      );
      const store = new PgTaskStore(old.pool);
      const first = tasks[0] as (typeof tasks)[number];
      expect(
        await store.usageForTenant(
          { tenantId: 'acme', subject: null },
          first.createdAt,
          Number.MAX_SAFE_INTEGER,
        ),
      ).toMatchObject({
        byState: { SUCCEEDED: 3, FAILED: 2, QUEUED: 1 },
        imagesGenerated: 4,
        cutouts: 1,
      });
      expect(await store.get(first.id)).toEqual(first);
      expect(await store.creditsHeld({ tenantId: 'acme', subject: null }, creditDay(Date.now()))).toEqual({
        images: 3,
        cutouts: 1,
      });
    } finally {
      await old.close();
      await fresh.drop();
    }
  });
});

describe('PgTaskStore across instances', () => {
  it('refuses a second task for an idempotency key still in its window (two instances racing)', async () => {
    await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
    const other = otherInstance();
    try {
      const one = new PgTaskStore(postgres.db.pool);
      const two = new PgTaskStore(other.pool);
      const first = sampleTask({ idempotencyKey: 'order-7\u0000' });
      const racer = sampleTask({ idempotencyKey: 'order-7\u0000', createdAt: first.createdAt + 10 });
      const results = await Promise.allSettled([one.insert(first), two.insert(racer)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(IdempotencyConflictError);
      const winner = results[0]?.status === 'fulfilled' ? first : racer;
      expect((refused.reason as IdempotencyConflictError).existingId).toBe(winner.id);
      // Another tenant's identical key is unrelated; a deleted task frees its key.
      await two.insert(sampleTask({ idempotencyKey: 'order-7\u0000', tenantId: 'other' }));
      await one.delete(winner.id);
      const later = sampleTask({ idempotencyKey: 'order-7\u0000' });
      await two.insert(later);
      expect(
        (await one.findByIdempotencyKey({ tenantId: 'acme', subject: null }, 'order-7\u0000', 0))?.id,
      ).toBe(later.id);
    } finally {
      await other.close();
    }
  });

  it('never lets instances racing for one tenant go past its active-task limit', async () => {
    await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
    const instances = [postgres.db, otherInstance(), otherInstance()];
    const limits = {
      perMinute: 1_000,
      maxActive: 5,
      subject: { perMinute: 1_000, maxActive: 5 },
      credits: UNCAPPED,
    };
    try {
      const stores = instances.map((each) => new PgTaskStore(each.pool, { limits }));
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => stores[i % stores.length]?.insert(sampleTask())),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      for (const refused of results.filter((r) => r.status === 'rejected')) {
        expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(TenantLimitError);
      }
      expect(await stores[0]?.countActive({ tenantId: 'acme', subject: null })).toBe(5);
      const limiter = new PgTenantLimiter(postgres.db.pool, limits);
      expect((await limiter.admit({ tenantId: 'acme', subject: null }, ONE_IMAGE)).ok).toBe(false);
      expect((await limiter.admit({ tenantId: 'other', subject: null }, ONE_IMAGE)).ok).toBe(true);
    } finally {
      await Promise.all(instances.slice(1).map((each) => each.close()));
    }
  });

  it('never lets instances racing for one end user go past its own active-task limit, nor hold back another', async () => {
    await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
    const instances = [postgres.db, otherInstance(), otherInstance()];
    const limits = {
      perMinute: 1_000,
      maxActive: 1_000,
      subject: { perMinute: 1_000, maxActive: 3 },
      credits: UNCAPPED,
    };
    try {
      const stores = instances.map((each) => new PgTaskStore(each.pool, { limits }));
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          stores[i % stores.length]?.insert(sampleTask({ subject: 'alice' })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(await stores[0]?.countActive({ tenantId: 'acme', subject: 'alice' })).toBe(3);
      await stores[1]?.insert(sampleTask({ subject: 'bob' }));
      const limiter = new PgTenantLimiter(postgres.db.pool, limits);
      expect((await limiter.admit({ tenantId: 'acme', subject: 'alice' }, ONE_IMAGE)).ok).toBe(false);
      expect((await limiter.admit({ tenantId: 'acme', subject: 'bob' }, ONE_IMAGE)).ok).toBe(true);
      expect(await limiter.standing({ tenantId: 'acme', subject: 'alice' })).toMatchObject({
        maxActive: 3,
        active: 3,
      });
    } finally {
      await Promise.all(instances.slice(1).map((each) => each.close()));
    }
  });

  it('never lets a burst of parallel creates on several instances go past a daily credit cap (#25)', async () => {
    await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
    const instances = [postgres.db, otherInstance(), otherInstance()];
    // Each sample task asks for 2 images at 3 credits: 6 credits reserved.
    const limits = {
      perMinute: 1_000,
      maxActive: 1_000,
      subject: { perMinute: 1_000, maxActive: 1_000 },
      credits: { perTenant: { acme: 30 }, perSubject: 12, prices: PRICES },
    };
    try {
      const stores = instances.map((each) => new PgTaskStore(each.pool, { limits }));
      const burst = (count: number, subject: string | null) =>
        Promise.allSettled(
          Array.from({ length: count }, (_, i) =>
            stores[i % stores.length]?.insert(sampleTask({ subject, createdAt: Date.now() })),
          ),
        );
      const alice = await burst(12, 'alice');
      expect(alice.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const rest = await burst(24, null);
      expect(rest.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const refused of [...alice, ...rest].filter((r) => r.status === 'rejected')) {
        const reason = (refused as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(TenantLimitError);
        expect((reason as TenantLimitError).refusal).toMatchObject({ kind: 'QUOTA_EXCEEDED' });
      }
      const limiter = new PgTenantLimiter(postgres.db.pool, limits);
      expect(await limiter.standing({ tenantId: 'acme', subject: null })).toMatchObject({
        creditsPerDay: 30,
        creditsRemainingToday: 0,
      });
      const refused = await limiter.admit({ tenantId: 'acme', subject: null }, ONE_IMAGE);
      expect(refused.ok ? null : refused.error).toMatchObject({ kind: 'QUOTA_EXCEEDED' });
      expect((await limiter.admit({ tenantId: 'other', subject: null }, ONE_IMAGE)).ok).toBe(true);
    } finally {
      await Promise.all(instances.slice(1).map((each) => each.close()));
    }
  });

  it('counts creations in a per-minute window shared by every instance', async () => {
    await postgres.db.pool.query('truncate tasks, tenant_creations, credit_holds');
    const other = otherInstance();
    const limits = {
      perMinute: 3,
      maxActive: 1_000,
      subject: { perMinute: 3, maxActive: 1_000 },
      credits: UNCAPPED,
    };
    try {
      const one = new PgTaskStore(postgres.db.pool, { limits });
      const two = new PgTaskStore(other.pool, { limits });
      await one.insert(sampleTask({ state: 'SUCCEEDED' }));
      await two.insert(sampleTask({ state: 'SUCCEEDED' }));
      await one.insert(sampleTask({ state: 'SUCCEEDED' }));
      const refused = await two.insert(sampleTask()).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TenantLimitError);
      expect((refused as TenantLimitError).refusal).toMatchObject({ kind: 'RATE_LIMITED' });
      const answer = await new PgTenantLimiter(other.pool, limits).admit(
        { tenantId: 'acme', subject: null },
        ONE_IMAGE,
      );
      expect(answer.ok ? null : answer.error).toMatchObject({ kind: 'RATE_LIMITED' });
    } finally {
      await other.close();
    }
  });
});
