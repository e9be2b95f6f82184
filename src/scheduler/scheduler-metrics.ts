import { creditsCharged } from '../core/credits.js';
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
  readonly #creditsPerImage: number;
  readonly #key: string;

  /**
   * `creditsPerImage`: PICWISH_CREDITS_PER_IMAGE, what each image a task produced is charged;
   * `keyId`: the PicWish key this scheduler drives, as its metrics' `key` label.
   */
  constructor(metrics: GatewayMetrics, creditsPerImage: number, keyId: string) {
    this.#metrics = metrics;
    this.#creditsPerImage = creditsPerImage;
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

  /** `task` ended SUCCEEDED here: its credits go to its tenant (FAILED and CANCELLED cost nothing). */
  charged(task: Task): void {
    this.#metrics.chargeCredits(task.tenantId, creditsCharged(task, this.#creditsPerImage) ?? 0);
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
