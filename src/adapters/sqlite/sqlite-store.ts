// Over 300 lines on purpose: the schema, its in-place upgrades and the prepared statements of
// the TaskStore and BatchStore contracts on SQLite share one connection and belong together.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Batch, BatchItem, BatchStore } from '../../core/batches.js';
import { type ChargedUnits, chargedUnits, creditDay, heldUnits } from '../../core/credits.js';
import { isTerminal, type Task, type TaskState } from '../../core/model.js';
import type { OwnerScope, TaskPage, TaskPageQuery, TaskStore } from '../../core/store.js';
import { emptyUsage, type TaskUsage } from '../../core/usage.js';
import type { WebhookDelivery } from '../../core/webhooks.js';
import { insertDeliveries, SqliteWebhookStore, WEBHOOK_SCHEMA } from './sqlite-webhooks.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idempotency_key TEXT,
  doc TEXT NOT NULL,
  image_count INTEGER NOT NULL DEFAULT 0,
  cutout_count INTEGER NOT NULL DEFAULT 0,
  subject TEXT
);
CREATE INDEX IF NOT EXISTS tasks_tenant_seq ON tasks (tenant_id, seq DESC);
CREATE INDEX IF NOT EXISTS tasks_unfinished ON tasks (state) WHERE state IN ('QUEUED', 'PROCESSING');
CREATE INDEX IF NOT EXISTS tasks_idempotency ON tasks (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at);
CREATE INDEX IF NOT EXISTS tasks_seq ON tasks (seq);
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  idempotency_key TEXT,
  doc TEXT NOT NULL,
  subject TEXT
);
CREATE INDEX IF NOT EXISTS batches_created ON batches (created_at);
CREATE TABLE IF NOT EXISTS credit_holds (
  task_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  subject TEXT,
  day INTEGER NOT NULL,
  images INTEGER NOT NULL,
  cutouts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS credit_holds_tenant_day ON credit_holds (tenant_id, day, subject);
CREATE INDEX IF NOT EXISTS batches_idempotency ON batches (tenant_id, idempotency_key, created_at)
  WHERE idempotency_key IS NOT NULL;
${WEBHOOK_SCHEMA}`;

/**
 * Brings a file written by an earlier release up to SCHEMA: `image_count` and `cutout_count` (a
 * task's chargedUnits, filled from the documents once) and the usage index, which covers
 * `viewer.usage` so it never opens a document — reading `$.images` from each SUCCEEDED one took
 * 90 ms for 5,000 tasks, on the event loop. Tasks of the last two days written before credit caps
 * (#25) get their holds (a no-op once they have them).
 */
const UPGRADE = `
DROP INDEX IF EXISTS tasks_tenant_created;
CREATE INDEX IF NOT EXISTS tasks_tenant_charged ON tasks (tenant_id, created_at, state, image_count, cutout_count);
CREATE INDEX IF NOT EXISTS tasks_subject_seq ON tasks (tenant_id, subject, seq DESC) WHERE subject IS NOT NULL;
INSERT OR IGNORE INTO credit_holds (task_id, tenant_id, subject, day, images, cutouts)
  SELECT id, tenant_id, subject, created_at / 86400000,
    CASE WHEN state IN ('QUEUED', 'PROCESSING') THEN COALESCE(json_extract(doc, '$.batchSize'), 1) ELSE image_count END,
    CASE WHEN state IN ('QUEUED', 'PROCESSING') THEN json_type(doc, '$.cutout') = 'object' ELSE cutout_count END
  FROM tasks WHERE created_at >= CAST(unixepoch('subsec') * 1000 AS INTEGER) - 2 * 86400000;
`;

/** What the columns of a task's row hold besides its document: what it was charged for. */
function chargedColumns(task: Task): { imageCount: number; cutoutCount: number } {
  const units = chargedUnits(task);
  return { imageCount: units.images, cutoutCount: units.cutouts };
}

interface Row {
  doc: string;
  seq: number;
}

/**
 * The embedded default: one SQLite file under DATA_DIR (WAL mode), so a single gateway keeps its
 * tasks across restarts with nothing else to run. Each task is one JSON document plus the few
 * columns the queries need; `seq` orders tasks created in the same millisecond. Every insert reads
 * `MAX(seq)`: without `tasks_seq` that walks a whole index, 3 ms per create at 50,000 tasks.
 * Batches (#15) are documents in their own table of the same file.
 */
export class SqliteTaskStore implements TaskStore, BatchStore {
  readonly #db: Database.Database;
  readonly #statements;
  readonly #saveDeliveries: (deliveries: readonly WebhookDelivery[]) => void;
  /** The webhook rows and secrets, in the same file (a task change and its deliveries commit together). */
  readonly webhooks: SqliteWebhookStore;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    const columns = db.pragma('table_info(tasks)') as { name: string }[];
    if (!columns.some((column) => column.name === 'image_count')) {
      db.transaction(() => {
        db.exec('ALTER TABLE tasks ADD COLUMN image_count INTEGER NOT NULL DEFAULT 0');
        db.exec(
          `UPDATE tasks SET image_count = json_array_length(doc, '$.images') WHERE state = 'SUCCEEDED'`,
        );
      })();
    }
    if (!columns.some((column) => column.name === 'cutout_count')) {
      db.transaction(() => {
        db.exec('ALTER TABLE tasks ADD COLUMN cutout_count INTEGER NOT NULL DEFAULT 0');
        db.exec(`UPDATE tasks SET cutout_count = 1 WHERE json_extract(doc, '$.cutout.status') = 'stored'`);
        // image_count becomes a task's charged images: none before it SUCCEEDED.
        db.exec(`UPDATE tasks SET image_count = 0 WHERE state <> 'SUCCEEDED'`);
        db.exec('DROP INDEX IF EXISTS tasks_tenant_usage');
      })();
    }
    // Sessions (#23): the end user that made a task or batch; rows from before are the server's (null).
    for (const table of ['tasks', 'batches']) {
      const found = db.pragma(`table_info(${table})`) as { name: string }[];
      if (!found.some((column) => column.name === 'subject'))
        db.exec(`ALTER TABLE ${table} ADD COLUMN subject TEXT`);
    }
    db.exec(UPGRADE);
    this.#statements = {
      insert: db.prepare(
        `INSERT INTO tasks (id, tenant_id, subject, state, version, created_at, seq, idempotency_key, doc, image_count, cutout_count)
         VALUES (@id, @tenantId, @subject, @state, @version, @createdAt, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks), @idempotencyKey, @doc, @imageCount, @cutoutCount)`,
      ),
      get: db.prepare<[string], Row>('SELECT doc, seq FROM tasks WHERE id = ?'),
      update: db.prepare(
        `UPDATE tasks SET state = @state, version = @version, doc = @doc, image_count = @imageCount,
           cutout_count = @cutoutCount
         WHERE id = @id AND version = @previous`,
      ),
      delete: db.prepare('DELETE FROM tasks WHERE id = ?'),
      hold: db.prepare(
        `INSERT INTO credit_holds (task_id, tenant_id, subject, day, images, cutouts)
         VALUES (@id, @tenantId, @subject, @day, @images, @cutouts)`,
      ),
      pruneHolds: db.prepare<[string, number]>('DELETE FROM credit_holds WHERE tenant_id = ? AND day < ?'),
      settle: db.prepare<[number, number, string]>(
        'UPDATE credit_holds SET images = ?, cutouts = ? WHERE task_id = ?',
      ),
      held: db.prepare<
        [{ tenantId: string; subject: string | null; day: number }],
        { images: number; cutouts: number }
      >(
        `SELECT TOTAL(images) AS images, TOTAL(cutouts) AS cutouts FROM credit_holds
         WHERE tenant_id = @tenantId AND day = @day AND (@subject IS NULL OR subject = @subject)`,
      ),
      deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE task_id = ?'),
      unfinished: db.prepare<[], Row>(
        `SELECT doc, seq FROM tasks WHERE state IN ('QUEUED', 'PROCESSING') ORDER BY seq ASC`,
      ),
      unfinishedIds: db.prepare<[], { id: string }>(
        `SELECT id FROM tasks WHERE state IN ('QUEUED', 'PROCESSING') ORDER BY seq ASC`,
      ),
      // `@subject IS NULL OR subject = @subject`: one end user's rows, or with no subject the tenant's.
      seqOf: db.prepare<[{ id: string; tenantId: string; subject: string | null }], { seq: number }>(
        `SELECT seq FROM tasks WHERE id = @id AND tenant_id = @tenantId AND (@subject IS NULL OR subject = @subject)`,
      ),
      page: db.prepare<
        [{ tenantId: string; subject: string | null; before: number; state: string | null; limit: number }],
        Row
      >(
        `SELECT doc, seq FROM tasks WHERE tenant_id = @tenantId AND (@subject IS NULL OR subject = @subject)
           AND seq < @before AND (@state IS NULL OR state = @state) ORDER BY seq DESC LIMIT @limit`,
      ),
      // An idempotency key belongs to exactly one owner: `IS` matches null (a server key's) too.
      byKey: db.prepare<[{ tenantId: string; subject: string | null; key: string; since: number }], Row>(
        `SELECT doc, seq FROM tasks WHERE tenant_id = @tenantId AND subject IS @subject AND idempotency_key = @key
           AND created_at >= @since ORDER BY seq DESC LIMIT 1`,
      ),
      count: db.prepare<[{ tenantId: string; subject: string | null; state: string | null }], { n: number }>(
        `SELECT COUNT(*) AS n FROM tasks WHERE tenant_id = @tenantId AND (@subject IS NULL OR subject = @subject)
           AND (@state IS NULL OR state = @state)`,
      ),
      active: db.prepare<[{ tenantId: string; subject: string | null }], { n: number }>(
        `SELECT COUNT(*) AS n FROM tasks WHERE tenant_id = @tenantId AND (@subject IS NULL OR subject = @subject)
           AND state IN ('QUEUED', 'PROCESSING')`,
      ),
      usage: db.prepare<
        [{ tenantId: string; subject: string | null; from: number; to: number }],
        { state: TaskState; n: number; images: number; cutouts: number }
      >(
        `SELECT state, COUNT(*) AS n, TOTAL(image_count) AS images, TOTAL(cutout_count) AS cutouts
         FROM tasks WHERE tenant_id = @tenantId AND (@subject IS NULL OR subject = @subject)
           AND created_at >= @from AND created_at < @to GROUP BY state`,
      ),
      createdBefore: db.prepare<[number, number], Row>(
        'SELECT doc, seq FROM tasks WHERE created_at < ? ORDER BY created_at ASC LIMIT ?',
      ),
      insertBatch: db.prepare(
        `INSERT INTO batches (id, tenant_id, subject, created_at, idempotency_key, doc)
         VALUES (@id, @tenantId, @subject, @createdAt, @idempotencyKey, @doc)`,
      ),
      fillBatch: db.prepare<[string, string]>('UPDATE batches SET doc = ? WHERE id = ?'),
      getBatch: db.prepare<[string], { doc: string }>('SELECT doc FROM batches WHERE id = ?'),
      deleteBatches: db.prepare<[number]>('DELETE FROM batches WHERE created_at < ?'),
      batchByKey: db.prepare<
        [{ tenantId: string; subject: string | null; key: string; since: number }],
        { doc: string }
      >(
        `SELECT doc FROM batches WHERE tenant_id = @tenantId AND subject IS @subject AND idempotency_key = @key
           AND created_at >= @since ORDER BY created_at DESC LIMIT 1`,
      ),
    };
    this.#saveDeliveries = insertDeliveries(db);
    this.webhooks = new SqliteWebhookStore(db);
  }

  async insert(task: Task, deliveries: readonly WebhookDelivery[] = []): Promise<void> {
    this.#db.transaction(() => {
      this.#statements.insert.run({
        id: task.id,
        tenantId: task.tenantId,
        subject: task.subject ?? null,
        state: task.state,
        version: task.version,
        createdAt: task.createdAt,
        idempotencyKey: task.idempotencyKey,
        doc: JSON.stringify(task),
        ...chargedColumns(task),
      });
      // The task's hold on the daily credit caps; the tenant's holds of earlier days go on the way.
      const day = creditDay(task.createdAt);
      this.#statements.pruneHolds.run(task.tenantId, day - 1);
      this.#statements.hold.run({
        id: task.id,
        tenantId: task.tenantId,
        subject: task.subject ?? null,
        day,
        ...heldUnits(task),
      });
      this.#saveDeliveries(deliveries);
    })();
  }

  async get(id: string): Promise<Task | null> {
    const row = this.#statements.get.get(id);
    return row ? (JSON.parse(row.doc) as Task) : null;
  }

  async update(next: Task, deliveries: readonly WebhookDelivery[] = []): Promise<boolean> {
    return this.#db.transaction(() => {
      const result = this.#statements.update.run({
        id: next.id,
        state: next.state,
        version: next.version,
        previous: next.version - 1,
        doc: JSON.stringify(next),
        ...chargedColumns(next),
      });
      if (result.changes !== 1) return false;
      if (isTerminal(next.state)) {
        const charged = chargedUnits(next);
        this.#statements.settle.run(charged.images, charged.cutouts, next.id);
      }
      this.#saveDeliveries(deliveries);
      return true;
    })();
  }

  async delete(id: string): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#statements.deleteDeliveries.run(id);
      return this.#statements.delete.run(id).changes === 1;
    })();
  }

  async listUnfinished(): Promise<Task[]> {
    return this.#statements.unfinished.all().map((row) => JSON.parse(row.doc) as Task);
  }

  async listUnfinishedIds(): Promise<string[]> {
    return this.#statements.unfinishedIds.all().map((row) => row.id);
  }

  async listForTenant(tenantId: string, query: TaskPageQuery): Promise<TaskPage> {
    let before = Number.MAX_SAFE_INTEGER;
    if (query.after) {
      const cursor = this.#statements.seqOf.get({
        id: query.after,
        tenantId,
        subject: query.subject ?? null,
      });
      if (!cursor) return { tasks: [], hasNextPage: false };
      before = cursor.seq;
    }
    const rows = this.#statements.page.all({
      tenantId,
      subject: query.subject ?? null,
      before,
      state: query.state ?? null,
      limit: query.first + 1,
    });
    return {
      tasks: rows.slice(0, query.first).map((row) => JSON.parse(row.doc) as Task),
      hasNextPage: rows.length > query.first,
    };
  }

  async findByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Task | null> {
    const row = this.#statements.byKey.get({ ...owner, key, since });
    return row ? (JSON.parse(row.doc) as Task) : null;
  }

  async countForTenant(scope: OwnerScope, state: TaskState | null): Promise<number> {
    return this.#statements.count.get({ ...scope, state })?.n ?? 0;
  }

  async countActive(scope: OwnerScope): Promise<number> {
    return this.#statements.active.get(scope)?.n ?? 0;
  }

  async usageForTenant(scope: OwnerScope, from: number, to: number): Promise<TaskUsage> {
    const usage = emptyUsage();
    for (const row of this.#statements.usage.all({ ...scope, from, to })) {
      usage.byState[row.state] = row.n;
      usage.imagesGenerated += row.images;
      usage.cutouts += row.cutouts;
    }
    return usage;
  }

  async creditsHeld(scope: OwnerScope, day: number): Promise<ChargedUnits> {
    const row = this.#statements.held.get({ ...scope, day });
    return { images: row?.images ?? 0, cutouts: row?.cutouts ?? 0 };
  }

  async listCreatedBefore(before: number, limit: number): Promise<Task[]> {
    return this.#statements.createdBefore.all(before, limit).map((row) => JSON.parse(row.doc) as Task);
  }

  async insertBatch(batch: Batch): Promise<void> {
    // One process owns the file and the service holds the tenant's lock: no race to detect here.
    this.#statements.insertBatch.run({
      id: batch.id,
      tenantId: batch.tenantId,
      subject: batch.subject ?? null,
      createdAt: batch.createdAt,
      idempotencyKey: batch.idempotencyKey,
      doc: JSON.stringify(batch),
    });
  }

  async fillBatch(id: string, items: readonly BatchItem[]): Promise<void> {
    const batch = await this.getBatch(id);
    if (batch) this.#statements.fillBatch.run(JSON.stringify({ ...batch, items }), id);
  }

  async getBatch(id: string): Promise<Batch | null> {
    const row = this.#statements.getBatch.get(id);
    return row ? (JSON.parse(row.doc) as Batch) : null;
  }

  async findBatchByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Batch | null> {
    const row = this.#statements.batchByKey.get({ ...owner, key, since });
    return row ? (JSON.parse(row.doc) as Batch) : null;
  }

  async deleteBatchesBefore(before: number): Promise<number> {
    return this.#statements.deleteBatches.run(before).changes;
  }

  async ping(): Promise<boolean> {
    return this.#db.open;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
