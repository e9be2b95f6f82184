import { err, ok, type Result } from '../shared/result.js';
import type { Caller } from './caller.js';
import { type ChargedUnits, type CreditPrices, creditDay, creditDayEnd, creditsFor } from './credits.js';
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
  /** Whether the caller may create a task that would cost `estimate` if it succeeds. */
  admit(caller: Caller, estimate: ChargedUnits): Promise<Result<void, GatewayError>>;
  /** Counts a created task against the per-minute windows (the tenant's, and its subject's). */
  record(caller: Caller): void;
  /**
   * Counts an input refused after its image was read, fetched or decoded in the same windows as
   * a creation (#27): the work was done, so a flood of bad inputs runs into RATE_LIMITED like a
   * flood of good ones, and the early check then refuses it before any more work.
   */
  recordRefused(caller: Caller): Promise<void>;
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
  readonly credits: CreditCaps;
}

/**
 * Daily caps on PicWish credits (#25): per tenant (`TENANT_DAILY_CREDITS`) and per end user of
 * any tenant (`SUBJECT_DAILY_CREDITS`). A task reserves its estimate when it is created and
 * settles to what it was charged when it ends (credits.ts `heldUnits`); a day is a UTC calendar
 * day, and a task counts on the day it was created.
 */
export interface CreditCaps {
  /** Tenants' caps; a tenant not named is uncapped. */
  readonly perTenant: Readonly<Record<string, number>>;
  /** Every end user's cap, inside its tenant's; null: uncapped. */
  readonly perSubject: number | null;
  readonly prices: CreditPrices;
}

/** No credit caps: what a gateway without TENANT_DAILY_CREDITS or SUBJECT_DAILY_CREDITS has. */
export function uncapped(prices: CreditPrices): CreditCaps {
  return { perTenant: {}, perSubject: null, prices };
}

/** The daily cap of a scope: the tenant's (subject null) or its end user's; null when uncapped. */
export function dailyCap(caps: CreditCaps, scope: OwnerScope): number | null {
  return scope.subject === null ? (caps.perTenant[scope.tenantId] ?? null) : caps.perSubject;
}

/**
 * Refuses a task whose `estimate` would take the scope past its daily cap, given what the scope's
 * tasks of the day hold (`held`, reserved or charged).
 */
export function checkCredits(
  caps: CreditCaps,
  scope: OwnerScope,
  held: ChargedUnits,
  estimate: ChargedUnits,
  now: number,
): Result<void, GatewayError> {
  const cap = dailyCap(caps, scope);
  if (cap === null) return ok(undefined);
  const spent = creditsFor(held, caps.prices);
  const cost = creditsFor(estimate, caps.prices);
  if (spent + cost <= cap) return ok(undefined);
  const resetsAt = creditDayEnd(now);
  const who = scope.subject === null ? 'Your tenant' : 'You';
  return err({
    kind: 'QUOTA_EXCEEDED',
    message: `${who} may spend ${cap} PicWish credits a day (UTC) and ${Math.max(0, cap - spent)} are left today; this task would reserve ${cost}. Ask for fewer images (batchSize) or try again after ${resetsAt.toISOString()}.`,
    resetsAt,
    retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now) / 1000)),
  });
}

/** Where a caller stands against the daily credit caps that bind it (`viewer.limits`). */
export interface CreditStanding {
  /** The cap that binds the caller: a session's own, else (or without one) its tenant's; null: none. */
  readonly creditsPerDay: number | null;
  /** What may still be reserved today under every cap that binds it; null when none does. */
  readonly creditsRemainingToday: number | null;
  /** When the day ends and the caps start afresh (midnight UTC). */
  readonly creditsResetAt: Date;
}

/** The caller's credit standing from what each of its scopes holds today (`held`, read by the limiter). */
export async function creditStanding(
  caps: CreditCaps,
  caller: Caller,
  held: (scope: OwnerScope, day: number) => Promise<ChargedUnits>,
  now = Date.now(),
): Promise<CreditStanding> {
  let creditsPerDay: number | null = null;
  let creditsRemainingToday: number | null = null;
  // The end user's own scope first, so its cap is the one `creditsPerDay` names.
  for (const scope of scopesOf(caller).reverse()) {
    const cap = dailyCap(caps, scope);
    if (cap === null) continue;
    creditsPerDay ??= cap;
    const left = Math.max(0, cap - creditsFor(await held(scope, creditDay(now)), caps.prices));
    creditsRemainingToday = Math.min(creditsRemainingToday ?? left, left);
  }
  return { creditsPerDay, creditsRemainingToday, creditsResetAt: creditDayEnd(now) };
}

/**
 * A tenant's limits as they stand, so a product can show "N left this minute" instead of
 * discovering the limits through a RATE_LIMITED (issue #15).
 */
export interface TenantStanding extends CreditStanding {
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
  credits: CreditStanding,
): TenantStanding {
  return {
    ...credits,
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
export function scopesOf(caller: Caller): OwnerScope[] {
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

  async admit(caller: Caller, estimate: ChargedUnits): Promise<Result<void, GatewayError>> {
    const now = Date.now();
    for (const scope of scopesOf(caller)) {
      const limits = this.#limitsOf(scope);
      const recent = this.#window(scope, now);
      if (recent.length >= limits.perMinute)
        return perMinuteRefusal(limits.perMinute, now - (recent[0] ?? now));
      const active = await checkActiveTasks(this.store, scope, limits.maxActive);
      if (!active.ok) return active;
      if (dailyCap(this.limits.credits, scope) === null) continue;
      const held = await this.store.creditsHeld(scope, creditDay(now));
      const credits = checkCredits(this.limits.credits, scope, held, estimate, now);
      if (!credits.ok) return credits;
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

  async recordRefused(caller: Caller): Promise<void> {
    this.record(caller);
  }

  async standing(caller: Caller): Promise<TenantStanding> {
    const now = Date.now();
    const scope: OwnerScope = { tenantId: caller.tenantId, subject: caller.subject };
    const recent = this.#window(scope, now);
    const active = await this.store.countActive(scope);
    const credits = await creditStanding(this.limits.credits, caller, (s, day) =>
      this.store.creditsHeld(s, day),
    );
    return tenantStanding(
      this.#limitsOf(scope),
      { recent: recent.length, oldestAgeMs: now - (recent[0] ?? now), active },
      credits,
    );
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
