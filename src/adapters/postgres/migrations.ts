import type pg from 'pg';
import { LOCK_SPACE } from './connection.js';

/**
 * The schema, one numbered step at a time. A step is never edited once released: a change is a
 * new step, so every database reaches the same schema by the same path.
 *
 * `doc` is `json`, not `jsonb`: it keeps the record byte for byte (jsonb refuses the `\u0000`
 * escape a prompt may carry) and nothing queries inside it. The idempotency key is kept as its
 * SHA-256: a client's key is an opaque string of up to 255 characters, NUL included, which a
 * `text` column would refuse.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      create table tasks (
        id text primary key,
        seq bigint generated always as identity unique,
        tenant_id text not null,
        state text not null,
        version integer not null,
        created_at bigint not null,
        idempotency_hash text,
        doc json not null
      );
      create index tasks_tenant_seq on tasks (tenant_id, seq desc);
      create index tasks_unfinished on tasks (seq) where state in ('QUEUED', 'PROCESSING');
      create index tasks_active on tasks (tenant_id) where state in ('QUEUED', 'PROCESSING');
      create index tasks_idempotency on tasks (tenant_id, idempotency_hash, created_at)
        where idempotency_hash is not null;
      create index tasks_created on tasks (created_at);
      create table tenant_creations (
        tenant_id text not null,
        at timestamptz not null default clock_timestamp()
      );
      create index tenant_creations_window on tenant_creations (tenant_id, at);
    `,
  },
  {
    version: 2,
    sql: `
      alter table tasks add column upstream_task_id text;
      -- Read as text: parsing the document would refuse the NUL escapes a prompt may carry.
      update tasks set upstream_task_id = substring(doc::text from '"upstreamTaskId":"([^"]*)"');
      create index tasks_waiting on tasks (created_at, id) where state = 'QUEUED' and upstream_task_id is null;
    `,
  },
  {
    // Usage (#15): a tenant's period is counted from columns, never by opening the documents.
    version: 3,
    sql: `
      alter table tasks add column image_count integer not null default 0;
      -- json operators refuse the NUL escape a prompt may carry; \\u0001 in its place keeps the
      -- text valid JSON of the same shape (also after an escaped backslash), and only images is read.
      update tasks set image_count = json_array_length(replace(doc::text, '\\u0000', '\\u0001')::json -> 'images')
        where state = 'SUCCEEDED';
      create index tasks_tenant_created on tasks (tenant_id, created_at) include (state, image_count);
    `,
  },
  {
    version: 4,
    sql: `
      -- The PicWish key a task sticks to (its id, a hash; never the key). Rows from before the
      -- key pool stay null: the pool's first key drives them.
      alter table tasks add column picwish_key_id text;
      update tasks set picwish_key_id = substring(doc::text from '"picwishKeyId":"([^"]*)"');
    `,
  },
  {
    // Batches (#15): the record lists its items' task ids; each task names its batch in its doc.
    version: 5,
    sql: `
      create table batches (
        id text primary key,
        tenant_id text not null,
        created_at bigint not null,
        idempotency_hash text,
        doc json not null
      );
      create index batches_idempotency on batches (tenant_id, idempotency_hash, created_at)
        where idempotency_hash is not null;
    `,
  },
  {
    // Webhooks (#15): one row per event of a task, written in the task change's transaction;
    // instances claim due rows with FOR UPDATE SKIP LOCKED and a lease (pg-webhooks.ts).
    version: 6,
    sql: `
      create table webhook_deliveries (
        id text primary key,
        task_id text not null,
        tenant_id text not null,
        event text not null,
        url text not null,
        task json not null,
        created_at bigint not null,
        status text not null,
        attempts json not null,
        next_attempt_at bigint,
        lease_owner text,
        lease_until bigint,
        unique (task_id, event)
      );
      create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'PENDING';
      create table webhook_secrets (
        tenant_id text primary key,
        current text not null,
        previous text,
        previous_until bigint
      );
    `,
  },
  {
    // The retention sweep removes old batch records by age (#15).
    version: 7,
    sql: 'create index batches_created on batches (created_at);',
  },
  {
    // Credits (#15): the row keeps a task's chargedUnits (core/credits.ts) — image_count only
    // once SUCCEEDED, cutout_count once its cutout was stored — so usage sums columns alone.
    version: 8,
    sql: `
      alter table tasks add column cutout_count integer not null default 0;
      -- As in step 3: \\u0001 stands in for the NUL escape the json operators refuse.
      update tasks set cutout_count = 1
        where replace(doc::text, '\\u0000', '\\u0001')::json -> 'cutout' ->> 'status' = 'stored';
      update tasks set image_count = 0 where state <> 'SUCCEEDED' and image_count <> 0;
      drop index tasks_tenant_created;
      create index tasks_tenant_charged on tasks (tenant_id, created_at) include (state, image_count, cutout_count);
    `,
  },
  {
    // Sessions (#23): the end user that made a task or batch (null: a server key, and every row
    // from before), and the subject of each creation in the per-minute window.
    version: 9,
    sql: `
      alter table tasks add column subject text;
      alter table batches add column subject text;
      alter table tenant_creations add column subject text;
      create index tasks_subject_seq on tasks (tenant_id, subject, seq desc) where subject is not null;
      create index tenant_creations_subject on tenant_creations (tenant_id, subject, at) where subject is not null;
    `,
  },
  {
    // Fair share (#25): each key's elected scheduler publishes the order it will send waiting
    // charged steps in, so every instance answers queuePosition from the same order.
    version: 10,
    sql: `
      create table waiting_orders (
        key_id text primary key,
        ids text[] not null,
        published_at bigint not null
      );
    `,
  },
  {
    // Credit caps (#25): what each task holds against its owner's daily caps, by UTC day (days
    // since 1970), kept apart from tasks so deleting a task gives no credits back. The tasks of
    // the last two days get their holds here: the estimate while unfinished, else the charge.
    version: 11,
    sql: `
      create table credit_holds (
        task_id text primary key,
        tenant_id text not null,
        subject text,
        day integer not null,
        images integer not null,
        cutouts integer not null
      );
      create index credit_holds_tenant_day on credit_holds (tenant_id, day, subject);
      insert into credit_holds (task_id, tenant_id, subject, day, images, cutouts)
        select id, tenant_id, subject, (created_at / 86400000)::integer,
          case when state in ('QUEUED', 'PROCESSING')
            then coalesce((replace(doc::text, '\\u0000', '\\u0001')::json ->> 'batchSize')::integer, 1)
            else image_count end,
          case when state in ('QUEUED', 'PROCESSING')
            then case when json_typeof(replace(doc::text, '\\u0000', '\\u0001')::json -> 'cutout') = 'object'
              then 1 else 0 end
            else cutout_count end
        from tasks
        where created_at >= (extract(epoch from clock_timestamp()) * 1000)::bigint - 2 * 86400000;
    `,
  },
];

/**
 * Brings the database to the latest schema, once, however many instances start together: the
 * first takes the migrations advisory lock and applies what is missing, each step in its own
 * transaction with its version row; the others wait for the lock and then find nothing to do.
 * Returns the versions this call applied.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('select pg_advisory_lock($1, 0)', [LOCK_SPACE.migrations]);
    try {
      await client.query(`create table if not exists schema_migrations (
        version integer primary key,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await client.query<{ version: number }>('select version from schema_migrations');
      const done = new Set(rows.map((row) => row.version));
      const applied: number[] = [];
      for (const step of MIGRATIONS) {
        if (done.has(step.version)) continue;
        await client.query('begin');
        try {
          await client.query(step.sql);
          await client.query('insert into schema_migrations (version) values ($1)', [step.version]);
          await client.query('commit');
        } catch (error) {
          await client.query('rollback');
          throw error;
        }
        applied.push(step.version);
      }
      return applied;
    } finally {
      await client.query('select pg_advisory_unlock($1, 0)', [LOCK_SPACE.migrations]);
    }
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    // A session lock dies with its connection: destroying the client on any failure frees it.
    client.release(broken);
  }
}
