import type { Logger } from 'pino';
import type { CreditPrices } from '../core/credits.js';
import type { TaskEvents } from '../core/events.js';
import type { TaskLedger } from '../core/ledger.js';
import { isTerminal, isWaitingToBeSent, priorityOf, type Task } from '../core/model.js';
import type { QueuedTask, TaskDriver } from '../core/task-driver.js';
import type { UploadSpool } from '../core/upload-spool.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { ResultFetcher } from '../results/result-fetcher.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { UpstreamBudget } from './budget.js';
import type { CreateJournal } from './create-journal.js';
import { DeadlineTimers } from './deadline-timers.js';
import { FairQueue, type TenantWeights } from './fair-queue.js';
import { isChargedStep, nextStep, type ScheduledStep } from './next-step.js';
import { PollTiming } from './poll-timing.js';
import { QueuePositions } from './queue-positions.js';
import { type KeyLoad, RunLoop, type TaskFlow } from './run-loop.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import { LocalAdoption, type TaskAdoption } from './task-adoption.js';
import { TaskSteps } from './task-steps.js';
import { TaskTraces } from './task-traces.js';
import { LocalWaitingQueue, type WaitingQueue } from './waiting-queue.js';

/** What the scheduler needs; the composition root wires the real ones. */
export interface SchedulerDeps {
  /** The id of the PicWish key this scheduler drives (`upstream` sends that key). */
  readonly keyId: string;
  /**
   * Whether a task found unfinished is this key's to drive (a key pool has one scheduler per key);
   * default: every task is.
   */
  readonly drives?: (task: Task) => boolean;
  readonly ledger: TaskLedger;
  readonly events: TaskEvents;
  readonly upstream: UpstreamClient;
  readonly budget: UpstreamBudget;
  readonly fetcher: ResultFetcher;
  /** Where uploads wait until PicWish has them; the steps let go of them. */
  readonly spool: UploadSpool;
  /** Keeps an accepted create's upstream id until the task's record holds it. */
  readonly journal: CreateJournal;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** PicWish's prices (per image, per cutout), for the credits charged by tenant in the metrics. */
  readonly credits: CreditPrices;
  /** Calls in flight at once (slow or hung answers must not stall everything). */
  readonly maxInFlight?: number;
  /** Where queue positions come from; default: this process's waiting tasks. */
  readonly queue?: WaitingQueue;
  /** Who drives which task; default: all of them, from the start (`LocalAdoption`). */
  readonly adoption?: TaskAdoption;
  /** Tenants' weights in the fair share of the key's charged slots (`TENANT_WEIGHTS`); default: 1 each. */
  readonly weights?: TenantWeights;
}

/** The flow and lane a task's charged steps wait in: its tenant, its end user, its priority. */
export function flowOf(task: Task): TaskFlow {
  return {
    tenantId: task.tenantId,
    subject: task.subject ?? null,
    lane: priorityOf(task),
    arrival: task.createdAt,
  };
}

export type { KeyLoad } from './run-loop.js';

/**
 * Drives every unfinished task to its end — whether or not anyone watches — with the upstream
 * budget as the only pace. This class only wires its parts together behind the core's
 * `TaskDriver` port:
 *
 * - run-loop.ts — one scheduled step per task, taken earliest-due first, budget slots first
 *   (slot-arbitration.ts decides who gets a slot: due creates and polls take turns);
 * - task-steps.ts — the state machine, one step at a time, each answering its outcome
 *   (step-outcome.ts) for the loop to act on: cutout-step.ts, create-step.ts, poll-step.ts with
 *   upstream-status.ts, fetch-step.ts, sharing step-context.ts; charged-calls.ts — the
 *   resubmission rule; next-step.ts — which step a record asks for;
 * - failure-messages.ts — how a task fails; deadline-timers.ts — `deadlineSeconds` on time;
 * - task-adoption.ts — which tasks this process drives (the one cluster-aware part);
 * - fair-queue.ts — whose charged step gets a create's slot (tenants by weight, end users, lanes);
 * - queue-positions.ts — positions of waiting tasks (the fair queue's order) and their re-announcement;
 * - poll-timing.ts — when to poll; scheduler-metrics.ts — what is reported.
 */
export class TaskScheduler implements TaskDriver {
  readonly #queue: QueuePositions;
  readonly #adoption: TaskAdoption;
  readonly #loop: RunLoop;
  readonly #deadlines = new DeadlineTimers();
  readonly #traces = new TaskTraces();
  readonly #keyId: string;
  readonly #drives: (task: Task) => boolean;

  constructor(deps: SchedulerDeps) {
    this.#keyId = deps.keyId;
    this.#drives = deps.drives ?? (() => true);
    // Built in the order they use each other: nothing here refers to a part made after it.
    const metrics = new SchedulerMetrics(deps.metrics, deps.credits, deps.keyId);
    const queue = deps.queue ?? new LocalWaitingQueue();
    const adoption = deps.adoption ?? new LocalAdoption(deps.ledger.store);
    this.#adoption = adoption;
    const fair = new FairQueue(deps.weights);
    metrics.countChargedWaiting(() => fair.items());
    this.#queue = new QueuePositions(queue, deps.events, deps.ledger.store, deps.budget.qps, {
      fair,
      // An adoption holds all of the key's tasks or none of them (the key's lock), so any id asks.
      leading: () => adoption.holds(''),
    });
    // The run loop's table of scheduled steps, in which the poll timing brings planned polls forward.
    const scheduled = new Map<string, ScheduledStep>();
    const polls = new PollTiming(
      (id) => deps.events.watchedBy(id),
      () => scheduled.values(),
      (watchedBy) => metrics.pollPlanned(watchedBy),
    );
    const steps = new TaskSteps({
      ledger: deps.ledger,
      upstream: deps.upstream,
      fetcher: deps.fetcher,
      spool: deps.spool,
      journal: deps.journal,
      budget: deps.budget,
      logger: deps.logger,
      metrics,
      queue: this.#queue,
      polls,
      traces: this.#traces,
    });
    this.#loop = new RunLoop({
      budget: deps.budget,
      metrics,
      logger: deps.logger,
      maxInFlight: deps.maxInFlight ?? 16,
      fair,
      scheduled,
      steps,
      holds: (id) => adoption.holds(id),
      ended: (id) => this.#letGo(id),
      lost: (id) => this.#deadlines.cancel(id),
    });
  }

  /** Picks up every unfinished task in the store (after a restart, too) and starts working. */
  async start(): Promise<void> {
    this.#queue.start();
    this.#loop.start();
    await this.#adoption.start({
      isDriving: (id) => this.#loop.isDriving(id),
      drive: (task, dueAt) => {
        if (this.#drives(task)) this.#add(task, dueAt);
      },
    });
  }

  /** Stops taking new steps and waits for the ones in flight, so nothing is left half-recorded. */
  async stop(): Promise<void> {
    this.#adoption.stop();
    this.#queue.stop();
    this.#deadlines.cancelAll();
    await this.#loop.stop();
    await this.#adoption.handBack();
  }

  /** The tasks driven here: the key's whole load when this process drives all of its tasks. */
  async load(): Promise<KeyLoad> {
    return this.#loop.load();
  }

  /** A lone scheduler has one key for every task. */
  async chooseKey(): Promise<string> {
    return this.#keyId;
  }

  /** Starts driving a task (a new one, or one found unfinished) once this process owns it. */
  track(task: Task, dueAt: number = Date.now()): void {
    if (isTerminal(task.state)) return;
    this.#traces.remember(task.id);
    if (this.#adoption.holds(task.id)) {
      this.#add(task, dueAt);
      return;
    }
    // In the cluster's queue at once, whoever ends up driving it.
    if (isWaitingToBeSent(task)) this.#queue.join(task.id, task.createdAt);
    this.#adoption.claim(task, dueAt);
  }

  /** Stops driving a task that was cancelled or deleted; a step in flight finds it terminal. */
  untrack(taskId: string): void {
    const kind = this.#loop.stepOf(taskId)?.kind;
    const wasWaiting = kind !== undefined && isChargedStep(kind);
    this.#loop.unschedule(taskId);
    this.#letGo(taskId);
    if (wasWaiting) this.#queue.announceMove();
  }

  /** 1-based place among this key's tasks not yet sent to PicWish (cluster-wide with PostgreSQL); null once sent. */
  queuePosition(task: QueuedTask): Promise<number | null> {
    return this.#queue.position(task.id);
  }

  /** A hint for when a waiting task will be sent: one of this key's budget slots per task ahead of it. */
  estimatedStartAt(task: QueuedTask, now: number = Date.now()): Promise<Date | null> {
    return this.#queue.estimatedStartAt(task.id, now);
  }

  #add(task: Task, dueAt: number = Date.now()): void {
    const step = nextStep(task, { dueAt });
    if (isWaitingToBeSent(task)) {
      this.#queue.join(task.id, task.createdAt);
      if (task.startBy !== null) {
        this.#deadlines.arm(task.id, task.startBy, () => this.#loop.runExpiredCreate(task.id));
      }
    }
    this.#loop.schedule(task.id, step, flowOf(task));
  }

  /** The loop has forgotten the task: so do its deadline timer, the shared queue and the adoption. */
  #letGo(id: string): void {
    this.#deadlines.cancel(id);
    this.#queue.remove(id);
    this.#adoption.release(id);
  }
}
