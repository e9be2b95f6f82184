import { type CreditPrices, chargedUnits, creditsFor } from '../core/credits.js';
import type { WatchedBy } from '../core/events.js';
import type { Task, TaskState } from '../core/model.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/**
 * What the scheduler reports to Prometheus, in its own terms: the parts call these instead of
 * knowing metric names and labels, and a spec can count them without a registry. Each key's
 * scheduler reports under its key id (`key` label), so a pool's schedulers do not overwrite each
 * other's gauges.
 */
export class SchedulerMetrics {
  readonly #metrics: GatewayMetrics;
  readonly #prices: CreditPrices;
  readonly #key: string;

  /**
   * `prices`: what PicWish charges per image and per cutout, for the credits by tenant;
   * `keyId`: the PicWish key this scheduler drives, as its metrics' `key` label.
   */
  constructor(metrics: GatewayMetrics, prices: CreditPrices, keyId: string) {
    this.#metrics = metrics;
    this.#prices = prices;
    this.#key = keyId;
  }

  /** One upstream call settled with `outcome` (`ok`, or the fault kind), `startedAt` ms epoch. */
  call(kind: 'create' | 'poll' | 'cutout', outcome: string, startedAt: number): void {
    this.#metrics.upstreamCalls.inc({ kind, outcome, key: this.#key });
    this.#metrics.upstreamLatency.observe({ kind }, (Date.now() - startedAt) / 1000);
  }

  /** A task ended here (SUCCEEDED, or FAILED with `code`). */
  finished(state: Extract<TaskState, 'SUCCEEDED' | 'FAILED'>, code = ''): void {
    this.#metrics.tasksFinished.inc({ state, code });
  }

  /**
   * A task's record went from `before` to `after` here (its cutout stored, or it SUCCEEDED): what
   * that change was charged (chargedUnits, the rule of the task's own `creditsCharged`) goes to its
   * tenant, so the running total is what `viewer.usage` sums.
   */
  charged(before: Task, after: Task): void {
    const credits =
      creditsFor(chargedUnits(after), this.#prices) - creditsFor(chargedUnits(before), this.#prices);
    if (credits > 0) this.#metrics.chargeCredits(after.tenantId, credits);
  }

  /** A charged step of `flow` got its slot after waiting `waitedMs` in the fair share. */
  chargedStepSent(flow: { readonly tenantId: string; readonly lane: string }, waitedMs: number): void {
    this.#metrics.chargedWaitSeconds.observe(
      { tenant: this.#metrics.tenantLabel(flow.tenantId), lane: flow.lane },
      Math.max(0, waitedMs) / 1000,
    );
  }

  /** The scheduler's waiting charged steps, counted by tenant and lane at each scrape. */
  countChargedWaiting(source: () => Iterable<{ readonly tenantId: string; readonly lane: string }>): void {
    this.#metrics.countChargedWaitingIn(source);
  }

  /** The budget granted a slot. */
  slotGranted(): void {
    this.#metrics.budgetGranted.inc({ key: this.#key });
  }

  /** A planned poll starts now; it was due at `dueAt`. */
  pollStarted(dueAt: number): void {
    this.#metrics.pollLag.observe(Math.max(0, Date.now() - dueAt) / 1000);
  }

  /** A poll was planned for a task watched `watchedBy` (a watched one is polled more eagerly). */
  pollPlanned(watchedBy: WatchedBy): void {
    this.#metrics.pollsPlanned.inc({ key: this.#key, watched: watchedBy });
  }

  /** How many tasks this process drives: `waiting` to be sent, `total` including those. */
  tasksDriven(waiting: number, total: number): void {
    this.#metrics.queueLength.set({ key: this.#key }, waiting);
    this.#metrics.runningTasks.set({ key: this.#key }, total - waiting);
  }
}
