import type { Logger } from 'pino';
import type { TaskLedger, TaskPatch } from '../core/ledger.js';
import { isTerminal, type Task, type TaskError } from '../core/model.js';
import type { UploadSpool } from '../core/upload-spool.js';
import type { ResultFetcher } from '../results/result-fetcher.js';
import type { UpstreamClient, UpstreamFault } from '../upstream/client.js';
import type { UpstreamBudget } from './budget.js';
import type { CreateJournal } from './create-journal.js';
import { retryDelay } from './poll-policy.js';
import type { PollTiming } from './poll-timing.js';
import type { QueuePositions } from './queue-positions.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { TaskTraces } from './task-traces.js';

/** What the steps work with. */
export interface TaskStepsDeps {
  readonly ledger: TaskLedger;
  readonly upstream: UpstreamClient;
  readonly fetcher: ResultFetcher;
  readonly spool: UploadSpool;
  /** Keeps an accepted create's upstream id until the record holds it. */
  readonly journal: CreateJournal;
  readonly budget: UpstreamBudget;
  readonly logger: Logger;
  readonly metrics: SchedulerMetrics;
  readonly queue: QueuePositions;
  readonly polls: PollTiming;
  /** Each step's span, under the trace of the request that created the task. */
  readonly traces: TaskTraces;
}

/**
 * What every step shares: the deps, how a task fails, and the per-task counts of faults in a row
 * that the backoff and the 404 tolerance read. One per `TaskSteps`; the step files (create-step.ts,
 * cutout-step.ts, poll-step.ts, fetch-step.ts) are functions of it.
 */
export class StepContext {
  readonly deps: TaskStepsDeps;
  /** Consecutive transient faults per task, for the backoff. */
  readonly #failures = new Map<string, number>();
  /** Consecutive 404s on polls per task. */
  readonly #notFound = new Map<string, number>();

  constructor(deps: TaskStepsDeps) {
    this.deps = deps;
  }

  /** Ends the task with `error` (unless it ended otherwise meanwhile) and lets go of its upload. */
  async fail(task: Task, error: TaskError, extra: TaskPatch = {}): Promise<void> {
    const failed = await this.deps.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : { ...extra, state: 'FAILED', error, submitInFlight: false, pendingImages: [] },
    );
    if (failed?.state === 'FAILED' && failed.error === error) {
      this.deps.metrics.finished('FAILED', error.code);
      this.deps.logger.info({ taskId: task.id, code: error.code }, 'task failed');
    }
    if (!task.upstreamTaskId) this.deps.queue.leave(task.id);
    await this.deps.spool.discard(task.source);
  }

  /** How long to wait after a fault: PicWish's pause after a 429 (for everyone), else backoff. */
  retryAfter(id: string, fault: UpstreamFault | null): number {
    if (fault?.kind === 'rate_limited') {
      const pause = fault.retryAfterMs ?? 1_000;
      this.deps.budget.backOff(pause);
      return pause;
    }
    const failures = (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, failures);
    return retryDelay(failures);
  }

  /** One more 404 in a row on the task's polls; answers how many. */
  notFoundAgain(id: string): number {
    const seen = (this.#notFound.get(id) ?? 0) + 1;
    this.#notFound.set(id, seen);
    return seen;
  }

  /** A call of the task's went through: its backoff starts over (and its 404s, for a poll). */
  recovered(id: string): void {
    this.#failures.delete(id);
    this.#notFound.delete(id);
  }

  /** Forgets the task's counters (it is no longer driven here). */
  forget(id: string): void {
    this.recovered(id);
    this.deps.traces.forget(id);
  }
}
