import { hasStarted, type Task } from '../core/model.js';

/** Result links die an hour after completion; stop retrying downloads a little before that. */
export const RESULT_FETCH_WINDOW_MS = 55 * 60 * 1000;

/**
 * What a task needs next, read from its record: its photo's background removed first (`cutout`,
 * #14), sent to PicWish (`submit`), asked how it is doing (`poll`), or its finished results
 * downloaded (`fetch`, no budget: result links are not API calls).
 */
export type StepKind = 'cutout' | 'submit' | 'poll' | 'fetch';

/**
 * True for the steps PicWish charges for (a background removal, a create): they are taken in
 * arrival order and share the creates' turn of the budget (slot-arbitration.ts).
 */
export function isChargedStep(kind: StepKind): boolean {
  return kind === 'submit' || kind === 'cutout';
}

/**
 * One task's next step as the run loop holds it: what it is and when it is due. It carries
 * everything the loop needs to decide about a budget slot, so the loop never reads the task; the
 * step itself reads the record afresh when it runs.
 */
export interface ScheduledStep {
  readonly kind: StepKind;
  /**
   * Until when the step will call PicWish; after it, the step ends the task without a call (its
   * deadline passed) and needs no budget slot. -Infinity for a create a crash interrupted.
   */
  readonly callsUntil: number;
  dueAt: number;
  /** A poll the policy planned (for the poll-lag metric); submissions and retries are not. */
  readonly plannedPoll: boolean;
  /** Before `dueAt`, the step may run from here on a slot nothing due wants (see poll-policy.ts). */
  readonly earlyAt?: number;
  /** For a planned poll: when the task was submitted, to re-aim it when the expected duration drops. */
  readonly submittedAt?: number;
}

/** When to take a step: only `dueAt` is required. */
export type StepTiming = Pick<ScheduledStep, 'dueAt'> & Partial<Omit<ScheduledStep, 'kind' | 'callsUntil'>>;

/** The step `task` needs next, at `timing`. */
export function nextStep(task: Task, timing: StepTiming): ScheduledStep {
  return {
    kind: stepKindOf(task),
    callsUntil: task.submitInFlight ? Number.NEGATIVE_INFINITY : expiresAt(task),
    plannedPoll: false,
    ...timing,
  };
}

/** Which step the record asks for; the same rule picks the step the loop plans and the one it runs. */
export function stepKindOf(task: Task): StepKind {
  if (task.pendingImages.length > 0) return 'fetch';
  if (task.cutout && task.cutout.status !== 'stored') return 'cutout';
  return task.upstreamTaskId ? 'poll' : 'submit';
}

/** True when taking `step` at `now` means an upstream call, so it must hold a budget slot first. */
export function needsBudget(step: ScheduledStep, now: number): boolean {
  return step.kind !== 'fetch' && now <= step.callsUntil;
}

/**
 * The moment a task's time runs out: for results, PicWish's link lifetime; for a waiting task
 * with `deadlineSeconds`, its start-by time; otherwise the gateway's task deadline.
 */
export function expiresAt(task: Task): number {
  if (task.pendingImages.length > 0) {
    return (task.completedAt ?? task.submittedAt ?? task.createdAt) + RESULT_FETCH_WINDOW_MS;
  }
  if (!hasStarted(task) && task.startBy !== null) return Math.min(task.startBy, task.finishBy);
  return task.finishBy;
}
