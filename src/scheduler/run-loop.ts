import type { Logger } from 'pino';
import type { BudgetSlot, UpstreamBudget } from './budget.js';
import { type FairItem, FairQueue } from './fair-queue.js';
import { isChargedStep, needsBudget, type ScheduledStep } from './next-step.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import { type Candidate, nextWakeAt, SlotArbiter } from './slot-arbitration.js';
import type { StepOutcome } from './step-outcome.js';

/** Which flow and lane a task's charged steps wait in (fair-queue.ts). */
export type TaskFlow = Omit<FairItem, 'id'>;

/** How busy a key is: its tasks not yet sent, and all its unfinished ones (those included). */
export interface KeyLoad {
  readonly waiting: number;
  readonly unfinished: number;
}

/** Who takes the steps (task-steps.ts). */
export interface StepTaker {
  /** Takes the task's next step on `slot` (released by the step once its call settled); answers what came of it. */
  take(taskId: string, slot?: BudgetSlot): Promise<StepOutcome>;
  /** Forgets what it kept of the task (it is no longer driven here). */
  forget(taskId: string): void;
}

/** What the loop needs from the rest of the scheduler. */
export interface RunLoopDeps {
  readonly budget: UpstreamBudget;
  readonly metrics: SchedulerMetrics;
  readonly logger: Logger;
  /** Steps in flight at once (slow or hung answers must not stall everything). */
  readonly maxInFlight: number;
  /** The fair share of charged slots among flows (fair-queue.ts); default: a queue of its own. */
  readonly fair?: FairQueue;
  /**
   * The scheduled steps, one per task; default: a table of its own. The scheduler shares it with
   * the poll timing (poll-timing.ts), which brings planned polls forward in it.
   */
  readonly scheduled?: Map<string, ScheduledStep>;
  readonly steps: StepTaker;
  /** True while this process may drive the task (see task-adoption.ts). */
  holds(taskId: string): boolean;
  /** The task needed nothing more and the loop has forgotten it: the rest of the scheduler lets go of it too. */
  ended(taskId: string): void;
  /** No longer ours (the leader lost its lock) and forgotten by the loop: forget it here only. */
  lost(taskId: string): void;
}

/**
 * The scheduler's heartbeat: holds one scheduled step per task (never more: that is what makes it
 * one poller per task however many clients subscribe), takes them earliest-due first within the
 * in-flight cap, and gets a budget slot before any step that calls PicWish. Who gets a slot is
 * the `SlotArbiter`'s decision, made again once the slot is granted, so the most urgent step at
 * that moment gets it. The step is handed that slot and answers its outcome (step-outcome.ts):
 * the loop schedules the step it asks for next, or lets go of the task. The loop sleeps until
 * the next step is due, or until `poke`d.
 */
export class RunLoop {
  readonly #deps: RunLoopDeps;
  readonly #scheduled: Map<string, ScheduledStep>;
  /** Steps running now, by task, as they were scheduled. */
  readonly #inFlight = new Map<string, ScheduledStep>();
  readonly #steps = new Set<Promise<void>>();
  /** The flow of each task scheduled with one: its charged steps wait in `#fair`. */
  readonly #flows = new Map<string, TaskFlow>();
  /** Since when each task's charged step waits in `#fair`, for the wait-time metric. */
  readonly #waitingSince = new Map<string, number>();
  readonly #fair: FairQueue;
  readonly #arbiter: SlotArbiter;
  readonly #stopping = new AbortController();
  #running = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(deps: RunLoopDeps) {
    this.#deps = deps;
    this.#scheduled = deps.scheduled ?? new Map();
    this.#fair = deps.fair ?? new FairQueue();
    this.#arbiter = new SlotArbiter(this.#fair);
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops taking new steps and waits for the ones in flight, so nothing is left half-recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort();
    this.#poke();
    await this.#loop;
    await Promise.allSettled([...this.#steps]);
  }

  /**
   * Sets (or replaces) the task's next step and wakes the loop. With `flow`, its charged steps
   * wait their turn in the fair queue from now on, this one and those scheduled after it.
   */
  schedule(taskId: string, step: ScheduledStep, flow?: TaskFlow): void {
    if (flow) this.#flows.set(taskId, flow);
    this.#setScheduled(taskId, step);
    this.#countDriven();
    this.#poke();
  }

  /**
   * Drops the task's scheduled step, its flow and what the steps kept of it; a step in flight
   * runs to its end.
   */
  unschedule(taskId: string): void {
    this.#scheduled.delete(taskId);
    this.#flows.delete(taskId);
    this.#waitingSince.delete(taskId);
    this.#fair.remove(taskId);
    this.#deps.steps.forget(taskId);
    this.#countDriven();
  }

  /** True while the task has a step scheduled or in flight here. */
  isDriving(taskId: string): boolean {
    return this.#scheduled.has(taskId) || this.#inFlight.has(taskId);
  }

  /** The task's step as scheduled, or as it was when it started running. */
  stepOf(taskId: string): ScheduledStep | undefined {
    return this.#scheduled.get(taskId) ?? this.#inFlight.get(taskId);
  }

  /** The tasks driven here: how many wait for a charged call (a create, or a cutout first), of how many. */
  load(): KeyLoad {
    const ids = new Set([...this.#scheduled.keys(), ...this.#inFlight.keys()]);
    let waiting = 0;
    for (const id of ids) {
      const kind = this.stepOf(id)?.kind;
      if (kind !== undefined && isChargedStep(kind)) waiting += 1;
    }
    return { waiting, unfinished: ids.size };
  }

  /**
   * Runs the task's scheduled create (or background removal) now, out of turn and without a slot:
   * its deadline passed.
   */
  runExpiredCreate(taskId: string): void {
    const step = this.#scheduled.get(taskId);
    if (!step || !isChargedStep(step.kind) || !this.#running || this.#inFlight.has(taskId)) return;
    this.#dispatch({ id: taskId, step });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const now = Date.now();
      const next = this.#arbiter.pick(this.#candidates(), now);
      if (!next) {
        await this.#sleep(nextWakeAt(this.#waitingSteps(), Date.now()) - Date.now());
        continue;
      }
      if (this.#inFlight.size >= this.#deps.maxInFlight) {
        await this.#sleep(1_000);
        continue;
      }
      if (!this.#deps.holds(next.id) || !needsBudget(next.step, now)) {
        this.#dispatch(next);
        continue;
      }
      const slot = await this.#deps.budget.acquire(this.#stopping.signal);
      if (!slot || !this.#running) {
        slot?.release(false);
        break;
      }
      this.#deps.metrics.slotGranted();
      // The slot goes to whatever is most urgent now, which may have arrived while we waited.
      const chosen = this.#arbiter.pick(this.#candidates(), Date.now());
      if (!chosen) {
        slot.release(false);
        continue;
      }
      this.#arbiter.granted(chosen);
      const flow = this.#flows.get(chosen.id);
      const since = this.#waitingSince.get(chosen.id);
      if (flow && since !== undefined) this.#deps.metrics.chargedStepSent(flow, Date.now() - since);
      this.#dispatch(chosen, slot);
    }
  }

  *#candidates(): Generator<Candidate> {
    for (const [id, step] of this.#scheduled) if (!this.#inFlight.has(id)) yield { id, step };
  }

  *#waitingSteps(): Generator<ScheduledStep> {
    for (const candidate of this.#candidates()) yield candidate.step;
  }

  #dispatch({ id, step }: Candidate, slot?: BudgetSlot): void {
    if (!this.#deps.holds(id)) {
      // No longer ours (the leader lost its lock): not ours to drive.
      slot?.release(false);
      this.unschedule(id);
      this.#deps.lost(id);
      return;
    }
    this.#scheduled.delete(id);
    this.#fair.remove(id);
    this.#waitingSince.delete(id);
    this.#inFlight.set(id, step);
    if (step.plannedPoll) this.#deps.metrics.pollStarted(step.dueAt);
    const running = this.#deps.steps
      .take(id, slot)
      .then((outcome) => this.#actOn(id, outcome))
      .catch((error: unknown) => {
        this.#deps.logger.error({ err: error, taskId: id }, 'task step failed unexpectedly; retrying');
        if (this.#running) {
          this.#setScheduled(id, {
            kind: step.kind,
            callsUntil: step.callsUntil,
            dueAt: Date.now() + 5_000,
            plannedPoll: false,
          });
        }
      })
      .finally(() => {
        // Unused after all (the step made no call, or failed before it): it costs the window nothing.
        slot?.release(false);
        this.#inFlight.delete(id);
        this.#steps.delete(running);
        this.#countDriven();
        this.#poke();
      });
    this.#steps.add(running);
  }

  #actOn(id: string, outcome: StepOutcome): void {
    if (outcome.kind === 'ended') {
      this.unschedule(id);
      this.#deps.ended(id);
    } else if (this.#running) {
      this.#setScheduled(id, outcome.step);
    }
  }

  #countDriven(): void {
    const { waiting, unfinished } = this.load();
    this.#deps.metrics.tasksDriven(waiting, unfinished);
  }

  /** A charged step of a task with a flow waits in the fair queue; any other step leaves it. */
  #setScheduled(id: string, step: ScheduledStep): void {
    this.#scheduled.set(id, step);
    const flow = this.#flows.get(id);
    if (flow && isChargedStep(step.kind)) {
      if (!this.#waitingSince.has(id)) this.#waitingSince.set(id, Date.now());
      this.#fair.add({ id, ...flow });
    } else {
      this.#waitingSince.delete(id);
      this.#fair.remove(id);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
