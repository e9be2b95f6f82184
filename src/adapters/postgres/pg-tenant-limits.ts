import type pg from 'pg';
import type { GatewayError } from '../../core/errors.js';
import {
  activeTasksRefusal,
  perMinuteRefusal,
  TenantLimitError,
  type TenantLimiter,
  type TenantStanding,
  tenantStanding,
} from '../../core/tenant-limits.js';
import { ok, type Result } from '../../shared/result.js';

/** A tenant's limits (`TENANT_RATE_LIMIT_PER_MINUTE`, `TENANT_MAX_ACTIVE_TASKS`). */
export interface TenantLimits {
  readonly perMinute: number;
  readonly maxActive: number;
}

interface Usage {
  readonly active: number;
  readonly recent: number;
  /** Age of the oldest creation in the window, in ms (0 when the window is empty). */
  readonly oldestAgeMs: number;
}

/** The tenant's unfinished tasks and its creations of the last minute, on the database's clock. */
async function usage(db: pg.Pool | pg.PoolClient, tenantId: string): Promise<Usage> {
  const { rows } = await db.query<{ active: string; recent: string; oldest_age_ms: string | null }>(
    `select
       (select count(*) from tasks where tenant_id = $1 and state in ('QUEUED', 'PROCESSING')) as active,
       count(*) as recent,
       extract(epoch from clock_timestamp() - min(at)) * 1000 as oldest_age_ms
     from tenant_creations
     where tenant_id = $1 and at > clock_timestamp() - interval '60 seconds'`,
    [tenantId],
  );
  const row = rows[0];
  return {
    active: Number(row?.active ?? 0),
    recent: Number(row?.recent ?? 0),
    oldestAgeMs: Number(row?.oldest_age_ms ?? 0),
  };
}

function verdict(found: Usage, limits: TenantLimits): Result<void, GatewayError> {
  if (found.recent >= limits.perMinute) return perMinuteRefusal(limits.perMinute, found.oldestAgeMs);
  if (found.active >= limits.maxActive) return activeTasksRefusal(limits.maxActive);
  return ok(undefined);
}

/**
 * The binding check, inside the insert's transaction and under the tenant's advisory lock (taken
 * by the caller): throws `TenantLimitError` when the task would go past a limit, else counts the
 * creation in the window. Old window rows of the tenant are pruned on the way.
 */
export async function enforceTenantLimits(
  client: pg.PoolClient,
  tenantId: string,
  limits: TenantLimits,
): Promise<void> {
  await client.query(
    `delete from tenant_creations where tenant_id = $1 and at <= clock_timestamp() - interval '60 seconds'`,
    [tenantId],
  );
  const result = verdict(await usage(client, tenantId), limits);
  if (!result.ok) throw new TenantLimitError(result.error);
  await client.query('insert into tenant_creations (tenant_id) values ($1)', [tenantId]);
}

/**
 * The per-tenant limits of a cluster on PostgreSQL: the window and the active count are the
 * cluster's, read from the tables every instance writes. `admit` is the cheap early answer; the
 * binding one is `enforceTenantLimits`, which `PgTaskStore.insert` runs in the insert's own
 * transaction, so instances admitting one tenant at the same instant cannot overshoot together.
 */
export class PgTenantLimiter implements TenantLimiter {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: TenantLimits,
  ) {}

  async admit(tenantId: string): Promise<Result<void, GatewayError>> {
    return verdict(await usage(this.pool, tenantId), this.limits);
  }

  async standing(tenantId: string): Promise<TenantStanding> {
    return tenantStanding(this.limits, await usage(this.pool, tenantId));
  }

  record(): void {
    // The insert counted the creation in the same transaction.
  }
}
