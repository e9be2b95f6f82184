import type { WatchedBy } from '../core/events.js';
import type { Task } from '../core/model.js';
import { nextStep, type ScheduledStep } from './next-step.js';
import { DurationEstimate, planNextPoll } from './poll-policy.js';

/**
 * The poll policy (poll-policy.ts) applied to this scheduler's tasks: it learns how long tasks
 * take from the ones that finish, plans each next poll from that and from whether anyone watches,
 * and brings already planned polls forward when the expected duration drops.
 */
export class PollTiming {
  readonly #durations = new DurationEstimate();
  readonly #watchedBy: (taskId: string) => WatchedBy;
  readonly #planned: () => Iterable<ScheduledStep>;
  readonly #decided: (watchedBy: WatchedBy) => void;

  /**
   * @param watchedBy where somebody watches the task: on this process, or (in a cluster, as the
   *   other instances announce) on another
   * @param planned the steps scheduled now, whose poll times may be brought forward
   * @param decided told of each planned poll with where its task was watched (for the metrics)
   */
  constructor(
    watchedBy: (taskId: string) => WatchedBy,
    planned: () => Iterable<ScheduledStep>,
    decided: (watchedBy: WatchedBy) => void = () => {},
  ) {
    this.#watchedBy = watchedBy;
    this.#planned = planned;
    this.#decided = decided;
  }

  /** The next poll of a submitted task. */
  next(task: Task, now: number): ScheduledStep {
    const submittedAt = task.submittedAt ?? task.createdAt;
    const watchedBy = this.#watchedBy(task.id);
    this.#decided(watchedBy);
    const plan = planNextPoll(now - submittedAt, this.#durations.expectedMs, watchedBy !== 'nobody');
    return nextStep(task, {
      dueAt: now + plan.dueInMs,
      earlyAt: now + plan.earlyInMs,
      plannedPoll: true,
      submittedAt,
    });
  }

  /**
   * `task` ended upstream at `endedAt`: the expected duration is learned anew, and polls aimed at
   * a later end than now expected (the first tasks are planned with the 10 s starting guess) are
   * brought forward; none is put off.
   */
  finished(task: Task, endedAt: number): void {
    if (!task.submittedAt) return;
    this.#durations.observe(endedAt - task.submittedAt);
    const expected = this.#durations.expectedMs;
    for (const step of this.#planned()) {
      if (step.submittedAt === undefined) continue;
      const aimed = Math.max(step.submittedAt + expected, step.earlyAt ?? 0);
      if (aimed < step.dueAt) step.dueAt = aimed;
    }
  }
}
