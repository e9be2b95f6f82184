import type { ScheduledStep } from './next-step.js';

/**
 * What one step of a task came to, for the run loop to act on (run-loop.ts); the steps never
 * reach into the loop. Its budget slot is not part of it: the loop hands the step the slot, and
 * the step releases it the moment its upstream call settles, before anything is recorded.
 */
export type StepOutcome =
  /**
   * The task needs another step: a planned poll, a retry after a fault or a lost race, the create
   * after its cutout, the download after the poll that found it finished.
   */
  | { readonly kind: 'again'; readonly step: ScheduledStep }
  /** The task needs nothing more from the scheduler: it ended here, or had ended meanwhile. */
  | { readonly kind: 'ended' };

export const ENDED: StepOutcome = { kind: 'ended' };

/** The task's next step is `step`. */
export function again(step: ScheduledStep): StepOutcome {
  return { kind: 'again', step };
}
