// Over 300 lines on purpose: one adapter implements the TaskStore and BatchStore contracts on
// PostgreSQL; its statements share the tenant lock and the row shape, which is why they stay together.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Batch, BatchItem, BatchStore } from '../../core/batches.js';
import { type ChargedUnits, chargedUnits, creditDay, heldUnits } from '../../core/credits.js';
import type { Task, TaskState } from '../../core/model.js';
import { isTerminal } from '../../core/model.js';
import {
  IDEMPOTENCY_WINDOW_MS,
  IdempotencyConflictError,
  type OwnerScope,
  type TaskPage,
  type TaskPageQuery,
  type TaskStore,
} from '../../core/store.js';
import type { TenantLimits } from '../../core/tenant-limits.js';
import { emptyUsage, type TaskUsage } from '../../core/usage.js';
import type { WebhookDelivery } from '../../core/webhooks.js';
import { inTransaction, LOCK_SPACE } from './connection.js';
import type { PgKeyScope } from './pg-key-scope.js';
import { creditsHeld, enforceTenantLimits } from './pg-tenant-limits.js';
import { insertDeliveries } from './pg-webhooks.js';

const UNFINISHED = `state in ('QUEUED', 'PROCESSING')`;

/** The stored form of an idempotency key (see migrations.ts for why a hash). */
function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The tenant's creations (tasks and batches) one at a time, until the transaction ends. */
async function lockTenant(client: pg.PoolClient, tenantId: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE.tenant, tenantId]);
}

/** What PostgreSQL answers for a `json` column: already parsed. */
type DocRow = { doc: Task };

/**
 * The cluster's system of record (`DATABASE_URL`): one row per task — the record as a `json`
 * document plus the columns the queries need — so it survives any instance and a restart of the
 * database itself. `seq` (an identity column) orders a tenant's pages and tasks created in the
 * same millisecond; cursors name a task and resolve to its seq, never to an offset.
 *
 * Inserts run in a transaction under the tenant's advisory lock, which makes the idempotency
 * window and, with `limits`, the tenant limits exact across instances; a batch's insert takes the
 * same lock, so its idempotency key is exact across instances too.
 */
export class PgTaskStore implements TaskStore, BatchStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { readonly limits?: TenantLimits } = {},
  ) {}

  async insert(task: Task, deliveries: readonly WebhookDelivery[] = []): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await lockTenant(client, task.tenantId);
      const hash = task.idempotencyKey === null ? null : keyHash(task.idempotencyKey);
      const owner = { tenantId: task.tenantId, subject: task.subject ?? null };
      if (hash !== null) {
        const since = task.createdAt - IDEMPOTENCY_WINDOW_MS;
        const { rows } = await client.query<{ id: string }>(
          `select id from tasks where tenant_id = $1 and subject is not distinct from $2 and idempotency_hash = $3
             and created_at >= $4 order by seq desc limit 1`,
          [owner.tenantId, owner.subject, hash, since],
        );
        if (rows[0]) throw new IdempotencyConflictError(rows[0].id);
      }
      const held = heldUnits(task);
      if (this.options.limits) {
        await enforceTenantLimits(client, owner, this.options.limits, held, task.createdAt);
      }
      const units = chargedUnits(task);
      await client.query(
        `insert into tasks (id, tenant_id, state, version, created_at, idempotency_hash, upstream_task_id,
                            image_count, cutout_count, picwish_key_id, doc, subject)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json, $12)`,
        [
          task.id,
          task.tenantId,
          task.state,
          task.version,
          task.createdAt,
          hash,
          task.upstreamTaskId,
          units.images,
          units.cutouts,
          task.picwishKeyId,
          JSON.stringify(task),
          owner.subject,
        ],
      );
      // The task's hold on the daily credit caps; the tenant's holds of earlier days go on the way.
      const day = creditDay(task.createdAt);
      await client.query('delete from credit_holds where tenant_id = $1 and day < $2', [
        owner.tenantId,
        day - 1,
      ]);
      await client.query(
        `insert into credit_holds (task_id, tenant_id, subject, day, images, cutouts)
         values ($1, $2, $3, $4, $5, $6)`,
        [task.id, owner.tenantId, owner.subject, day, held.images, held.cutouts],
      );
      await insertDeliveries(client, deliveries);
    });
  }

  async get(id: string): Promise<Task | null> {
    const { rows } = await this.pool.query<DocRow>('select doc from tasks where id = $1', [id]);
    return rows[0]?.doc ?? null;
  }

  async update(next: Task, deliveries: readonly WebhookDelivery[] = []): Promise<boolean> {
    const units = chargedUnits(next);
    // A final task settles its hold on the credit caps to its charge, in the same statement.
    const settle = isTerminal(next.state)
      ? `, settled as (update credit_holds h set images = $5, cutouts = $6 from changed where h.task_id = changed.id)`
      : '';
    const write = async (client: pg.Pool | pg.PoolClient): Promise<boolean> => {
      const { rows } = await client.query<{ n: string }>(
        `with changed as (
           update tasks set state = $2, version = $3, upstream_task_id = $4, image_count = $5, cutout_count = $6,
                            doc = $7::json
           where id = $1 and version = $8 returning id
         )${settle}
         select count(*) as n from changed`,
        [
          next.id,
          next.state,
          next.version,
          next.upstreamTaskId,
          units.images,
          units.cutouts,
          JSON.stringify(next),
          next.version - 1,
        ],
      );
      return Number(rows[0]?.n) === 1;
    };
    // Most changes announce nothing: those stay one statement, without a transaction.
    if (deliveries.length === 0) return write(this.pool);
    return inTransaction(this.pool, async (client) => {
      if (!(await write(client))) return false;
      await insertDeliveries(client, deliveries);
      return true;
    });
  }

  async delete(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      await client.query('delete from webhook_deliveries where task_id = $1', [id]);
      const { rowCount } = await client.query('delete from tasks where id = $1', [id]);
      return rowCount === 1;
    });
  }

  async listUnfinished(): Promise<Task[]> {
    const { rows } = await this.pool.query<DocRow>(`select doc from tasks where ${UNFINISHED} order by seq`);
    return rows.map((row) => row.doc);
  }

  async listUnfinishedIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select id from tasks where ${UNFINISHED} order by seq`,
    );
    return rows.map((row) => row.id);
  }

  /**
   * The unfinished ids of one PicWish key, oldest first: what that key's elected leader adopts
   * every round, without loading the other keys' tasks.
   */
  async listUnfinishedIdsOf(scope: PgKeyScope): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select t.id from tasks t where t.${UNFINISHED} and ${scope.sql('t', 1)} order by t.seq`,
      [scope.value],
    );
    return rows.map((row) => row.id);
  }

  async listForTenant(tenantId: string, query: TaskPageQuery): Promise<TaskPage> {
    let before: string | null = null;
    if (query.after) {
      const { rows } = await this.pool.query<{ seq: string }>(
        'select seq from tasks where id = $1 and tenant_id = $2 and ($3::text is null or subject = $3)',
        [query.after, tenantId, query.subject ?? null],
      );
      if (!rows[0]) return { tasks: [], hasNextPage: false };
      before = rows[0].seq;
    }
    const { rows } = await this.pool.query<DocRow>(
      `select doc from tasks
       where tenant_id = $1 and ($2::bigint is null or seq < $2) and ($3::text is null or state = $3)
         and ($5::text is null or subject = $5)
       order by seq desc limit $4`,
      [tenantId, before, query.state ?? null, query.first + 1, query.subject ?? null],
    );
    return {
      tasks: rows.slice(0, query.first).map((row) => row.doc),
      hasNextPage: rows.length > query.first,
    };
  }

  async findByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Task | null> {
    const { rows } = await this.pool.query<DocRow>(
      `select doc from tasks where tenant_id = $1 and subject is not distinct from $2 and idempotency_hash = $3
         and created_at >= $4 order by seq desc limit 1`,
      [owner.tenantId, owner.subject, keyHash(key), since],
    );
    return rows[0]?.doc ?? null;
  }

  async countForTenant(scope: OwnerScope, state: TaskState | null): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `select count(*) as n from tasks
       where tenant_id = $1 and ($2::text is null or subject = $2) and ($3::text is null or state = $3)`,
      [scope.tenantId, scope.subject, state],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async countActive(scope: OwnerScope): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `select count(*) as n from tasks where tenant_id = $1 and ($2::text is null or subject = $2) and ${UNFINISHED}`,
      [scope.tenantId, scope.subject],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async usageForTenant(scope: OwnerScope, from: number, to: number): Promise<TaskUsage> {
    const { rows } = await this.pool.query<{ state: TaskState; n: string; images: string; cutouts: string }>(
      `select state, count(*) as n, sum(image_count) as images, sum(cutout_count) as cutouts
       from tasks where tenant_id = $1 and ($4::text is null or subject = $4) and created_at >= $2 and created_at < $3
       group by state`,
      [scope.tenantId, from, to, scope.subject],
    );
    const usage = emptyUsage();
    for (const row of rows) {
      usage.byState[row.state] = Number(row.n);
      usage.imagesGenerated += Number(row.images);
      usage.cutouts += Number(row.cutouts);
    }
    return usage;
  }

  creditsHeld(scope: OwnerScope, day: number): Promise<ChargedUnits> {
    return creditsHeld(this.pool, scope, day);
  }

  async listCreatedBefore(before: number, limit: number): Promise<Task[]> {
    const { rows } = await this.pool.query<DocRow>(
      'select doc from tasks where created_at < $1 order by created_at, seq limit $2',
      [before, limit],
    );
    return rows.map((row) => row.doc);
  }

  async insertBatch(batch: Batch): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await lockTenant(client, batch.tenantId);
      const hash = batch.idempotencyKey === null ? null : keyHash(batch.idempotencyKey);
      if (hash !== null) {
        const { rows } = await client.query<{ id: string }>(
          `select id from batches where tenant_id = $1 and subject is not distinct from $2 and idempotency_hash = $3
             and created_at >= $4 order by created_at desc limit 1`,
          [batch.tenantId, batch.subject ?? null, hash, batch.createdAt - IDEMPOTENCY_WINDOW_MS],
        );
        if (rows[0]) throw new IdempotencyConflictError(rows[0].id);
      }
      await client.query(
        `insert into batches (id, tenant_id, created_at, idempotency_hash, doc, subject)
         values ($1, $2, $3, $4, $5::json, $6)`,
        [batch.id, batch.tenantId, batch.createdAt, hash, JSON.stringify(batch), batch.subject ?? null],
      );
    });
  }

  async fillBatch(id: string, items: readonly BatchItem[]): Promise<void> {
    const batch = await this.getBatch(id);
    if (!batch) return;
    await this.pool.query('update batches set doc = $2::json where id = $1', [
      id,
      JSON.stringify({ ...batch, items }),
    ]);
  }

  async getBatch(id: string): Promise<Batch | null> {
    const { rows } = await this.pool.query<{ doc: Batch }>('select doc from batches where id = $1', [id]);
    return rows[0]?.doc ?? null;
  }

  async findBatchByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Batch | null> {
    const { rows } = await this.pool.query<{ doc: Batch }>(
      `select doc from batches where tenant_id = $1 and subject is not distinct from $2 and idempotency_hash = $3
         and created_at >= $4 order by created_at desc limit 1`,
      [owner.tenantId, owner.subject, keyHash(key), since],
    );
    return rows[0]?.doc ?? null;
  }

  async deleteBatchesBefore(before: number): Promise<number> {
    const { rowCount } = await this.pool.query('delete from batches where created_at < $1', [before]);
    return rowCount ?? 0;
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // The pool belongs to the composition root, which also hands it to the limiter and the events.
  }
}
