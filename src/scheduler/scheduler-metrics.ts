import type { TaskState } from '../core/model.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/**
 * What the scheduler reports to Prometheus, in its own terms: the parts call these instead of
 * knowing metric names and labels, and a spec can count them without a registry.
 */
export class SchedulerMetrics {
  readonly #metrics: GatewayMetrics;

  constructor(metrics: GatewayMetrics) {
    this.#metrics = metrics;
  }

  /** One upstream call settled with `outcome` (`ok`, or the fault kind), `startedAt` ms epoch. */
  call(kind: 'create' | 'poll', outcome: string, startedAt: number): void {
    this.#metrics.upstreamCalls.inc({ kind, outcome });
    this.#metrics.upstreamLatency.observe({ kind }, (Date.now() - startedAt) / 1000);
  }

  /** A task ended here (SUCCEEDED, or FAILED with `code`). */
  finished(state: Extract<TaskState, 'SUCCEEDED' | 'FAILED'>, code = ''): void {
    this.#metrics.tasksFinished.inc({ state, code });
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
