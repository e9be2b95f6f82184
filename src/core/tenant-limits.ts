import { err, ok, type Result } from '../shared/result.js';
import type { GatewayError } from './errors.js';
import type { TaskStore } from './store.js';

/**
 * Per-tenant abuse limits on creating tasks: so many per minute (`TENANT_RATE_LIMIT_PER_MINUTE`)
 * and so many unfinished at once (`TENANT_MAX_ACTIVE_TASKS`). TaskService checks before the upload
 * is read, so a refused request costs almost nothing, and again right before creating, one
 * creation per tenant at a time, so a burst of parallel requests cannot slip past together.
 */
export interface TenantLimiter {
  admit(tenantId: string): Promise<Result<void, GatewayError>>;
  /** Counts a created task against the per-minute window. */
  record(tenantId: string): void;
  /** Where the tenant stands against its limits now, for the `viewer` query. */
  standing(tenantId: string): Promise<TenantStanding>;
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

/** Refuses a tenant that already has `maxActive` unfinished tasks in the store. */
export async function checkActiveTasks(
  store: TaskStore,
  tenantId: string,
  maxActive: number,
): Promise<Result<void, GatewayError>> {
  if ((await store.countActive(tenantId)) < maxActive) return ok(undefined);
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

/** The in-process limiter: a sliding one-minute window of creation times per tenant. */
export class LocalTenantLimiter implements TenantLimiter {
  readonly #recent = new Map<string, number[]>();

  constructor(
    private readonly store: TaskStore,
    private readonly perMinute: number,
    private readonly maxActive: number,
  ) {}

  async admit(tenantId: string): Promise<Result<void, GatewayError>> {
    const now = Date.now();
    const recent = (this.#recent.get(tenantId) ?? []).filter((t) => t > now - 60_000);
    this.#recent.set(tenantId, recent);
    if (recent.length >= this.perMinute) return perMinuteRefusal(this.perMinute, now - (recent[0] ?? now));
    return checkActiveTasks(this.store, tenantId, this.maxActive);
  }

  record(tenantId: string): void {
    const list = this.#recent.get(tenantId) ?? [];
    list.push(Date.now());
    this.#recent.set(tenantId, list);
  }

  async standing(tenantId: string): Promise<TenantStanding> {
    const now = Date.now();
    const recent = (this.#recent.get(tenantId) ?? []).filter((t) => t > now - 60_000);
    const active = await this.store.countActive(tenantId);
    return tenantStanding(
      { perMinute: this.perMinute, maxActive: this.maxActive },
      { recent: recent.length, oldestAgeMs: now - (recent[0] ?? now), active },
    );
  }
}
