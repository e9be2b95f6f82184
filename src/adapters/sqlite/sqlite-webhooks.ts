import type Database from 'better-sqlite3';
import type { Task, TaskState } from '../../core/model.js';
import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookOutcome,
  WebhookSecrets,
  WebhookStore,
} from '../../core/webhooks.js';

/**
 * The webhook tables of the embedded store, created with the tasks table in the same file.
 * `(task_id, event)` is unique: a state is announced once per task, whoever writes it.
 */
export const WEBHOOK_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  event TEXT NOT NULL,
  url TEXT NOT NULL,
  task TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts TEXT NOT NULL,
  next_attempt_at INTEGER,
  lease_owner TEXT,
  lease_until INTEGER,
  UNIQUE (task_id, event)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE TABLE IF NOT EXISTS webhook_secrets (
  tenant_id TEXT PRIMARY KEY,
  current TEXT NOT NULL,
  previous TEXT,
  previous_until INTEGER
);
`;

interface DeliveryRow {
  id: string;
  task_id: string;
  tenant_id: string;
  event: string;
  url: string;
  task: string;
  created_at: number;
  status: string;
  attempts: string;
  next_attempt_at: number | null;
}

interface SecretRow {
  current: string;
  previous: string | null;
  previous_until: number | null;
}

const COLUMNS = 'id, task_id, tenant_id, event, url, task, created_at, status, attempts, next_attempt_at';

/** Writes delivery rows inside the caller's transaction (the task store's insert or update). */
export function insertDeliveries(db: Database.Database): (deliveries: readonly WebhookDelivery[]) => void {
  const statement = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (${COLUMNS})
     VALUES (@id, @taskId, @tenantId, @event, @url, @task, @createdAt, @status, @attempts, @nextAttemptAt)`,
  );
  return (deliveries) => {
    for (const delivery of deliveries) {
      statement.run({
        ...delivery,
        task: JSON.stringify(delivery.task),
        attempts: JSON.stringify(delivery.attempts),
      });
    }
  };
}

function fromRow(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    taskId: row.task_id,
    tenantId: row.tenant_id,
    event: row.event as TaskState,
    url: row.url,
    task: JSON.parse(row.task) as Task,
    createdAt: row.created_at,
    status: row.status as WebhookDeliveryStatus,
    attempts: JSON.parse(row.attempts) as WebhookAttempt[],
    nextAttemptAt: row.next_attempt_at,
  };
}

function secretsOf(row: SecretRow): WebhookSecrets {
  return { current: row.current, previous: row.previous, previousUntil: row.previous_until };
}

/**
 * Deliveries and secrets on SQLite. One process owns the file, so leases only keep this process's
 * own dispatcher rounds apart; they still expire, which is how rows leased by a process that was
 * killed mid-send are taken up again after a restart.
 */
export class SqliteWebhookStore implements WebhookStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = {
      due: db.prepare<[{ now: number; perTenant: number; limit: number }], DeliveryRow>(
        `WITH busy AS (
           SELECT tenant_id, COUNT(*) AS n FROM webhook_deliveries
           WHERE status = 'PENDING' AND lease_until >= @now GROUP BY tenant_id
         ), ranked AS (
           SELECT id, tenant_id, next_attempt_at,
             ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at, id) AS rank
           FROM webhook_deliveries
           WHERE status = 'PENDING' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
         )
         SELECT ${COLUMNS.split(', ')
           .map((column) => `d.${column}`)
           .join(', ')}
         FROM ranked r JOIN webhook_deliveries d ON d.id = r.id LEFT JOIN busy b ON b.tenant_id = r.tenant_id
         WHERE r.rank + COALESCE(b.n, 0) <= @perTenant
         ORDER BY r.rank, r.next_attempt_at LIMIT @limit`,
      ),
      lease: db.prepare<[string, number, string]>(
        'UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?',
      ),
      attemptsOf: db.prepare<[string, string], { attempts: string }>(
        'SELECT attempts FROM webhook_deliveries WHERE id = ? AND lease_owner = ?',
      ),
      record: db.prepare(
        `UPDATE webhook_deliveries SET attempts = @attempts, status = @status, next_attempt_at = @nextAttemptAt,
           lease_owner = NULL, lease_until = NULL
         WHERE id = @id AND lease_owner = @owner`,
      ),
      forTask: db.prepare<[string], DeliveryRow>(
        `SELECT ${COLUMNS} FROM webhook_deliveries WHERE task_id = ? ORDER BY created_at, rowid`,
      ),
      secrets: db.prepare<[string], SecretRow>(
        'SELECT current, previous, previous_until FROM webhook_secrets WHERE tenant_id = ?',
      ),
      addSecret: db.prepare<[string, string]>(
        'INSERT OR IGNORE INTO webhook_secrets (tenant_id, current) VALUES (?, ?)',
      ),
      rotate: db.prepare<[number, string, string]>(
        `UPDATE webhook_secrets SET previous = current, previous_until = ?, current = ? WHERE tenant_id = ?`,
      ),
    };
  }

  async claimDue(
    now: number,
    limit: number,
    leaseMs: number,
    owner: string,
    perTenant: number,
  ): Promise<WebhookDelivery[]> {
    return this.#db.transaction(() => {
      const rows = this.#statements.due.all({ now, perTenant, limit });
      for (const row of rows) this.#statements.lease.run(owner, now + leaseMs, row.id);
      return rows.map(fromRow);
    })();
  }

  async record(id: string, owner: string, outcome: WebhookOutcome): Promise<boolean> {
    return this.#db.transaction(() => {
      const row = this.#statements.attemptsOf.get(id, owner);
      if (!row) return false;
      const attempts = [...(JSON.parse(row.attempts) as WebhookAttempt[]), outcome.attempt];
      return (
        this.#statements.record.run({
          id,
          owner,
          attempts: JSON.stringify(attempts),
          status: outcome.status,
          nextAttemptAt: outcome.nextAttemptAt,
        }).changes === 1
      );
    })();
  }

  async listForTask(taskId: string): Promise<WebhookDelivery[]> {
    return this.#statements.forTask.all(taskId).map(fromRow);
  }

  async secrets(tenantId: string, candidate: string): Promise<WebhookSecrets> {
    this.#statements.addSecret.run(tenantId, candidate);
    return secretsOf(this.#statements.secrets.get(tenantId) as SecretRow);
  }

  async rotateSecret(tenantId: string, next: string, previousUntil: number): Promise<WebhookSecrets> {
    return this.#db.transaction(() => {
      // A tenant that never had a secret has nothing to keep signing with.
      if (this.#statements.addSecret.run(tenantId, next).changes === 0) {
        this.#statements.rotate.run(previousUntil, next, tenantId);
      }
      return secretsOf(this.#statements.secrets.get(tenantId) as SecretRow);
    })();
  }
}
