import type pg from 'pg';
import type { Task, TaskState } from '../../core/model.js';
import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookOutcome,
  WebhookSecrets,
  WebhookStore,
} from '../../core/webhooks.js';

interface DeliveryRow {
  id: string;
  task_id: string;
  tenant_id: string;
  event: string;
  url: string;
  task: Task;
  created_at: string;
  status: string;
  attempts: WebhookAttempt[];
  next_attempt_at: string | null;
}

interface SecretRow {
  current: string;
  previous: string | null;
  previous_until: string | null;
}

const COLUMNS = 'id, task_id, tenant_id, event, url, task, created_at, status, attempts, next_attempt_at';

/**
 * Writes delivery rows on the caller's client, inside its transaction (the task store's insert or
 * update). A row for the same task and event is never written twice (migration 3's unique key).
 */
export async function insertDeliveries(
  client: pg.PoolClient,
  deliveries: readonly WebhookDelivery[],
): Promise<void> {
  for (const d of deliveries) {
    await client.query(
      `insert into webhook_deliveries (${COLUMNS})
       values ($1, $2, $3, $4, $5, $6::json, $7, $8, $9::json, $10)
       on conflict (task_id, event) do nothing`,
      [
        d.id,
        d.taskId,
        d.tenantId,
        d.event,
        d.url,
        JSON.stringify(d.task),
        d.createdAt,
        d.status,
        JSON.stringify(d.attempts),
        d.nextAttemptAt,
      ],
    );
  }
}

function fromRow(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    taskId: row.task_id,
    tenantId: row.tenant_id,
    event: row.event as TaskState,
    url: row.url,
    task: row.task,
    createdAt: Number(row.created_at),
    status: row.status as WebhookDeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
  };
}

function secretsOf(row: SecretRow): WebhookSecrets {
  return {
    current: row.current,
    previous: row.previous,
    previousUntil: row.previous_until === null ? null : Number(row.previous_until),
  };
}

/**
 * Deliveries and secrets in the cluster's database. Every instance runs a dispatcher; a round
 * claims due rows with `FOR UPDATE SKIP LOCKED` and leases them in the same statement, so two
 * instances never take the same row, and a row whose holder died is taken again once its lease
 * ran out. A result is recorded only by the lease's holder.
 */
export class PgWebhookStore implements WebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Two instances claiming at the same instant each count the other's fresh leases only once they
   * commit, so a tenant may briefly have up to `perTenant` tries in flight per instance.
   */
  async claimDue(
    now: number,
    limit: number,
    leaseMs: number,
    owner: string,
    perTenant: number,
  ): Promise<WebhookDelivery[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `update webhook_deliveries set lease_owner = $1, lease_until = $2
       where id in (
         select d.id from webhook_deliveries d
         join (
           select id, tenant_id, next_attempt_at,
             row_number() over (partition by tenant_id order by next_attempt_at, id) as rank
           from webhook_deliveries
           where status = 'PENDING' and next_attempt_at <= $3 and (lease_until is null or lease_until < $3)
         ) r on r.id = d.id
         left join (
           select tenant_id, count(*) as n from webhook_deliveries
           where status = 'PENDING' and lease_until >= $3 group by tenant_id
         ) b on b.tenant_id = r.tenant_id
         -- The row's own conditions again at this level: a row another instance leased and
         -- committed meanwhile is re-checked under its lock and left out (not only skipped while locked).
         where d.status = 'PENDING' and d.next_attempt_at <= $3 and (d.lease_until is null or d.lease_until < $3)
           and r.rank + coalesce(b.n, 0) <= $5
         order by r.rank, r.next_attempt_at limit $4
         for update of d skip locked)
       returning ${COLUMNS}`,
      [owner, now + leaseMs, now, limit, perTenant],
    );
    return rows.map(fromRow);
  }

  async record(id: string, owner: string, outcome: WebhookOutcome): Promise<boolean> {
    // json has no append operator; the attempts are rebuilt as jsonb and stored back as json.
    const { rowCount } = await this.pool.query(
      `update webhook_deliveries
       set attempts = (attempts::jsonb || jsonb_build_array($3::jsonb))::json,
           status = $4, next_attempt_at = $5, lease_owner = null, lease_until = null
       where id = $1 and lease_owner = $2`,
      [id, owner, JSON.stringify(outcome.attempt), outcome.status, outcome.nextAttemptAt],
    );
    return rowCount === 1;
  }

  async listForTask(taskId: string): Promise<WebhookDelivery[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `select ${COLUMNS} from webhook_deliveries where task_id = $1 order by created_at, id`,
      [taskId],
    );
    return rows.map(fromRow);
  }

  async secrets(tenantId: string, candidate: string): Promise<WebhookSecrets> {
    await this.pool.query(
      'insert into webhook_secrets (tenant_id, current) values ($1, $2) on conflict do nothing',
      [tenantId, candidate],
    );
    const { rows } = await this.pool.query<SecretRow>(
      'select current, previous, previous_until from webhook_secrets where tenant_id = $1',
      [tenantId],
    );
    return secretsOf(rows[0] as SecretRow);
  }

  async rotateSecret(tenantId: string, next: string, previousUntil: number): Promise<WebhookSecrets> {
    // A tenant that never had a secret gets `next` and nothing to keep signing with.
    const { rows } = await this.pool.query<SecretRow>(
      `insert into webhook_secrets (tenant_id, current) values ($1, $2)
       on conflict (tenant_id) do update
         set previous = webhook_secrets.current, previous_until = $3, current = excluded.current
       returning current, previous, previous_until`,
      [tenantId, next, previousUntil],
    );
    return secretsOf(rows[0] as SecretRow);
  }
}
