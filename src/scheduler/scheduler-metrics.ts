import { creditsCharged } from '../core/credits.js';
import type { Task, TaskState } from '../core/model.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/**
 * What the scheduler reports to Prometheus, in its own terms: the parts call these instead of
 * knowing metric names and labels, and a spec can count them without a registry.
 */
export class SchedulerMetrics {
  readonly #metrics: GatewayMetrics;
  readonly #creditsPerImage: number;

  /** `creditsPerImage`: PICWISH_CREDITS_PER_IMAGE, what each image a task produced is charged. */
  constructor(metrics: GatewayMetrics, creditsPerImage: number) {
    this.#metrics = metrics;
    this.#creditsPerImage = creditsPerImage;
  }

  /** One upstream call settled with `outcome` (`ok`, or the fault kind), `startedAt` ms epoch. */
  call(kind: 'create' | 'poll' | 'cutout', outcome: string, startedAt: number): void {
    this.#metrics.upstreamCalls.inc({ kind, outcome });
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
    this.#metrics.budgetGranted.inc();
  }

  /** A planned poll starts now; it was due at `dueAt`. */
  pollStarted(dueAt: number): void {
    this.#metrics.pollLag.observe(Math.max(0, Date.now() - dueAt) / 1000);
  }

  /** How many tasks this process drives: `waiting` to be sent, `total` including those. */
  tasksDriven(waiting: number, total: number): void {
    this.#metrics.queueLength.set(waiting);
    this.#metrics.runningTasks.set(total - waiting);
  }
}
