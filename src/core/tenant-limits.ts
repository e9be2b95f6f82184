import { err, ok, type Result } from '../shared/result.js';
import type { Caller } from './caller.js';
import type { GatewayError } from './errors.js';
import type { OwnerScope, TaskStore } from './store.js';

/**
 * Per-tenant abuse limits on creating tasks: so many per minute (`TENANT_RATE_LIMIT_PER_MINUTE`)
 * and so many unfinished at once (`TENANT_MAX_ACTIVE_TASKS`). TaskService checks before the upload
 * is read, so a refused request costs almost nothing, and again right before creating, one
 * creation per tenant at a time, so a burst of parallel requests cannot slip past together.
 *
 * A session's creations (#23) also count against its end user's own, smaller limits
 * (`SUBJECT_RATE_LIMIT_PER_MINUTE`, `SUBJECT_MAX_ACTIVE_TASKS`), inside the tenant's.
 */
export interface TenantLimiter {
  admit(caller: Caller): Promise<Result<void, GatewayError>>;
  /** Counts a created task against the per-minute windows (the tenant's, and its subject's). */
  record(caller: Caller): void;
  /** Where the caller stands against its limits now (a session: its end user's), for `viewer`. */
  standing(caller: Caller): Promise<TenantStanding>;
}

/** The limits of one tenant, or of one end user inside it. */
export interface CreationLimits {
  readonly perMinute: number;
  readonly maxActive: number;
}

/**
 * A tenant's limits (`TENANT_RATE_LIMIT_PER_MINUTE`, `TENANT_MAX_ACTIVE_TASKS`) and each end
 * user's inside it (`SUBJECT_RATE_LIMIT_PER_MINUTE`, `SUBJECT_MAX_ACTIVE_TASKS`, #23).
 */
export interface TenantLimits extends CreationLimits {
  readonly subject: CreationLimits;
}

/**
 * A tenant's limits as they stand, so a product can show "N left this minute" instead of
 * discovering the limits through a RATE_LIMITED (issue #15).
 */
export interface TenantStanding {
  readonly perMinute: number;
  readonly remainingThisMinute: number;
  /** When the oldest creation leaves the one-minute window; null when the window is empty. */
  readonly resetsAt: Date | null;
  readonly maxActive: number;
  readonly active: number;
}

/** The standing from a window's count and the age of its oldest entry, as every limiter measures them. */
export function tenantStanding(
  limits: { readonly perMinute: number; readonly maxActive: number },
  window: { readonly recent: number; readonly oldestAgeMs: number; readonly active: number },
): TenantStanding {
  return {
    perMinute: limits.perMinute,
    remainingThisMinute: Math.max(0, limits.perMinute - window.recent),
    resetsAt: window.recent > 0 ? new Date(Date.now() + Math.max(0, 60_000 - window.oldestAgeMs)) : null,
    maxActive: limits.maxActive,
    active: window.active,
  };
}

/** The refusal for a full per-minute window whose oldest creation was `oldestAgeMs` ago. */
export function perMinuteRefusal(perMinute: number, oldestAgeMs: number): Result<never, GatewayError> {
  return err({
    kind: 'RATE_LIMITED',
    message: `At most ${perMinute} tasks may be created per minute.`,
    retryAfterSeconds: Math.min(60, Math.max(1, Math.ceil((60_000 - oldestAgeMs) / 1000))),
  });
}

/** The refusal for a tenant that already has `maxActive` unfinished tasks. */
export function activeTasksRefusal(maxActive: number): Result<never, GatewayError> {
  return err({
    kind: 'RATE_LIMITED',
    message: `At most ${maxActive} tasks may be unfinished at once; wait for one to finish.`,
    retryAfterSeconds: 5,
  });
}

/** Refuses a scope that already has `maxActive` unfinished tasks in the store. */
export async function checkActiveTasks(
  store: TaskStore,
  scope: OwnerScope,
  maxActive: number,
): Promise<Result<void, GatewayError>> {
  if ((await store.countActive(scope)) < maxActive) return ok(undefined);
  return activeTasksRefusal(maxActive);
}

/**
 * A store's `insert` refused a task because it would take the tenant past a limit. A shared store
 * that checks the limits in the same transaction as the insert throws it, so instances admitting
 * the same tenant at the same instant cannot overshoot together; the caller answers `refusal`.
 */
export class TenantLimitError extends Error {
  constructor(readonly refusal: GatewayError) {
    super(`tenant limit: ${refusal.kind}`);
    this.name = 'TenantLimitError';
  }
}

/** The scopes a caller's creation counts against: its tenant, and for a session its end user. */
function scopesOf(caller: Caller): OwnerScope[] {
  const tenant = { tenantId: caller.tenantId, subject: null };
  return caller.subject === null
    ? [tenant]
    : [tenant, { tenantId: caller.tenantId, subject: caller.subject }];
}

/** The in-process limiter: a sliding one-minute window of creation times per tenant and per subject. */
export class LocalTenantLimiter implements TenantLimiter {
  readonly #recent = new Map<string, number[]>();

  constructor(
    private readonly store: TaskStore,
    private readonly limits: TenantLimits,
  ) {}

  async admit(caller: Caller): Promise<Result<void, GatewayError>> {
    const now = Date.now();
    for (const scope of scopesOf(caller)) {
      const limits = this.#limitsOf(scope);
      const recent = this.#window(scope, now);
      if (recent.length >= limits.perMinute)
        return perMinuteRefusal(limits.perMinute, now - (recent[0] ?? now));
      const active = await checkActiveTasks(this.store, scope, limits.maxActive);
      if (!active.ok) return active;
    }
    return ok(undefined);
  }

  record(caller: Caller): void {
    for (const scope of scopesOf(caller)) {
      const key = windowKey(scope);
      const list = this.#recent.get(key) ?? [];
      list.push(Date.now());
      this.#recent.set(key, list);
    }
  }

  async standing(caller: Caller): Promise<TenantStanding> {
    const now = Date.now();
    const scope: OwnerScope = { tenantId: caller.tenantId, subject: caller.subject };
    const recent = this.#window(scope, now);
    const active = await this.store.countActive(scope);
    return tenantStanding(this.#limitsOf(scope), {
      recent: recent.length,
      oldestAgeMs: now - (recent[0] ?? now),
      active,
    });
  }

  #limitsOf(scope: OwnerScope): CreationLimits {
    return scope.subject === null ? this.limits : this.limits.subject;
  }

  /** The scope's creations of the last minute, oldest first (older ones are dropped on the way). */
  #window(scope: OwnerScope, now: number): number[] {
    const key = windowKey(scope);
    const recent = (this.#recent.get(key) ?? []).filter((t) => t > now - 60_000);
    if (recent.length > 0) this.#recent.set(key, recent);
    else this.#recent.delete(key);
    return recent;
  }
}

function windowKey(scope: OwnerScope): string {
  return scope.subject === null ? scope.tenantId : `${scope.tenantId}\u0000${scope.subject}`;
}
