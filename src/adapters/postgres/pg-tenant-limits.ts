import type pg from 'pg';
import type { Caller } from '../../core/caller.js';
import { type ChargedUnits, creditDay } from '../../core/credits.js';
import type { GatewayError } from '../../core/errors.js';
import type { OwnerScope } from '../../core/store.js';
import {
  activeTasksRefusal,
  type CreationLimits,
  checkCredits,
  creditStanding,
  dailyCap,
  perMinuteRefusal,
  scopesOf,
  TenantLimitError,
  type TenantLimiter,
  type TenantLimits,
  type TenantStanding,
  tenantStanding,
} from '../../core/tenant-limits.js';
import { ok, type Result } from '../../shared/result.js';

interface Usage {
  readonly active: number;
  readonly recent: number;
  /** Age of the oldest creation in the window, in ms (0 when the window is empty). */
  readonly oldestAgeMs: number;
}

/**
 * The scope's unfinished tasks and its creations of the last minute, on the database's clock: the
 * whole tenant's with subject null, else that end user's.
 */
async function usage(db: pg.Pool | pg.PoolClient, scope: OwnerScope): Promise<Usage> {
  const { rows } = await db.query<{ active: string; recent: string; oldest_age_ms: string | null }>(
    `select
       (select count(*) from tasks where tenant_id = $1 and ($2::text is null or subject = $2)
          and state in ('QUEUED', 'PROCESSING')) as active,
       count(*) as recent,
       extract(epoch from clock_timestamp() - min(at)) * 1000 as oldest_age_ms
     from tenant_creations
     where tenant_id = $1 and ($2::text is null or subject = $2) and at > clock_timestamp() - interval '60 seconds'`,
    [scope.tenantId, scope.subject],
  );
  const row = rows[0];
  return {
    active: Number(row?.active ?? 0),
    recent: Number(row?.recent ?? 0),
    oldestAgeMs: Number(row?.oldest_age_ms ?? 0),
  };
}

/**
 * What the scope's tasks created on credit day `day` hold against the daily caps, deleted tasks
 * included (the `credit_holds` rows PgTaskStore writes): the whole tenant's with subject null.
 */
export async function creditsHeld(
  db: pg.Pool | pg.PoolClient,
  scope: OwnerScope,
  day: number,
): Promise<ChargedUnits> {
  const { rows } = await db.query<{ images: string | null; cutouts: string | null }>(
    `select sum(images) as images, sum(cutouts) as cutouts from credit_holds
     where tenant_id = $1 and day = $2 and ($3::text is null or subject = $3)`,
    [scope.tenantId, day, scope.subject],
  );
  return { images: Number(rows[0]?.images ?? 0), cutouts: Number(rows[0]?.cutouts ?? 0) };
}

function verdict(found: Usage, limits: CreationLimits): Result<void, GatewayError> {
  if (found.recent >= limits.perMinute) return perMinuteRefusal(limits.perMinute, found.oldestAgeMs);
  if (found.active >= limits.maxActive) return activeTasksRefusal(limits.maxActive);
  return ok(undefined);
}

/**
 * The tenant's verdict, then (for a session) its end user's, for a task costing `estimate`: the
 * first refusal wins.
 */
async function verdictFor(
  db: pg.Pool | pg.PoolClient,
  caller: Caller,
  limits: TenantLimits,
  estimate: ChargedUnits,
  now = Date.now(),
): Promise<Result<void, GatewayError>> {
  for (const scope of scopesOf(caller)) {
    const found = verdict(await usage(db, scope), scope.subject === null ? limits : limits.subject);
    if (!found.ok) return found;
    if (dailyCap(limits.credits, scope) === null) continue;
    const held = await creditsHeld(db, scope, creditDay(now));
    const credits = checkCredits(limits.credits, scope, held, estimate, now);
    if (!credits.ok) return credits;
  }
  return ok(undefined);
}

/**
 * The binding check, inside the insert's transaction and under the tenant's advisory lock (taken
 * by the caller): throws `TenantLimitError` when a task costing `estimate` would go past a limit
 * or the daily credit cap of the day of `createdAt` (the day its hold counts on), else counts the creation in the window (with its subject, which the
 * tenant's count includes). Old window rows of the tenant are pruned on the way.
 */
export async function enforceTenantLimits(
  client: pg.PoolClient,
  caller: Caller,
  limits: TenantLimits,
  estimate: ChargedUnits,
  createdAt: number,
): Promise<void> {
  await client.query(
    `delete from tenant_creations where tenant_id = $1 and at <= clock_timestamp() - interval '60 seconds'`,
    [caller.tenantId],
  );
  const result = await verdictFor(client, caller, limits, estimate, createdAt);
  if (!result.ok) throw new TenantLimitError(result.error);
  await client.query('insert into tenant_creations (tenant_id, subject) values ($1, $2)', [
    caller.tenantId,
    caller.subject,
  ]);
}

/**
 * The per-tenant (and per-subject) limits of a cluster on PostgreSQL: the window and the active
 * count are the cluster's, read from the tables every instance writes. `admit` is the cheap early
 * answer; the binding one is `enforceTenantLimits`, which `PgTaskStore.insert` runs in the insert's
 * own transaction, so instances admitting one tenant at the same instant cannot overshoot together.
 */
export class PgTenantLimiter implements TenantLimiter {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: TenantLimits,
  ) {}

  admit(caller: Caller, estimate: ChargedUnits): Promise<Result<void, GatewayError>> {
    return verdictFor(this.pool, caller, this.limits, estimate);
  }

  async standing(caller: Caller): Promise<TenantStanding> {
    const limits = caller.subject === null ? this.limits : this.limits.subject;
    const credits = await creditStanding(this.limits.credits, caller, (scope, day) =>
      creditsHeld(this.pool, scope, day),
    );
    return tenantStanding(limits, await usage(this.pool, caller), credits);
  }

  record(): void {
    // The insert counted the creation in the same transaction.
  }

  async recordRefused(caller: Caller): Promise<void> {
    await this.pool.query('insert into tenant_creations (tenant_id, subject) values ($1, $2)', [
      caller.tenantId,
      caller.subject,
    ]);
  }
}
