import { isTerminal } from '../core/model.js';
import type { BudgetSlot } from './budget.js';
import { createStep, recordSubmitted } from './create-step.js';
import { cutoutStep } from './cutout-step.js';
import { CREATE_INTERRUPTED, CUTOUT_INTERRUPTED, expiryFailure } from './failure-messages.js';
import { fetchStep } from './fetch-step.js';
import { expiresAt, stepKindOf } from './next-step.js';
import { pollStep } from './poll-step.js';
import { StepContext, type TaskStepsDeps } from './step-context.js';
import { ENDED, type StepOutcome } from './step-outcome.js';

export type { TaskStepsDeps } from './step-context.js';

/**
 * The task state machine, one step at a time: each step reads the task's record, does the one
 * thing it asks for (remove the background, create, poll, download results — see `stepKindOf`;
 * one file each), records what came of it through the ledger, and answers its outcome for the run
 * loop to act on (step-outcome.ts). A step never overwrites a task that became terminal
 * meanwhile (cancelled, deleted): every write checks.
 */
export class TaskSteps {
  readonly #ctx: StepContext;

  constructor(deps: TaskStepsDeps) {
    this.#ctx = new StepContext(deps);
  }

  /**
   * Takes the next step of task `id`. `slot` is the budget slot its upstream call holds (none for
   * a download, or for a step whose deadline passed): the step releases it once the call settles.
   */
  async take(id: string, slot?: BudgetSlot): Promise<StepOutcome> {
    const ctx = this.#ctx;
    const task = await ctx.deps.ledger.store.get(id);
    if (!task || isTerminal(task.state)) return ENDED;
    const now = Date.now();
    const kind = stepKindOf(task);
    if (task.submitInFlight) {
      // The resubmission rule (charged-calls.ts) after a crash: only a create whose accepted id
      // was journaled is known to have been charged once; anything else is not sent again.
      const journaled = kind === 'submit' ? await ctx.deps.journal.find(task.id) : null;
      if (journaled !== null) return recordSubmitted(ctx, task, journaled);
      await ctx.fail(task, kind === 'cutout' ? CUTOUT_INTERRUPTED : CREATE_INTERRUPTED);
      return ENDED;
    }
    if (now > expiresAt(task)) {
      await ctx.fail(task, expiryFailure(task, now));
      return ENDED;
    }
    return ctx.deps.traces.step(task.id, kind, () => {
      switch (kind) {
        case 'fetch':
          return fetchStep(ctx, task);
        case 'cutout':
          return cutoutStep(ctx, task, slot);
        case 'submit':
          return createStep(ctx, task, slot);
        default:
          return pollStep(ctx, task, slot);
      }
    });
  }

  /** Forgets the task's retry counters (it is no longer driven here). */
  forget(id: string): void {
    this.#ctx.forget(id);
  }
}
