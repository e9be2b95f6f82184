import type { TaskLedger, TaskPatch } from '../core/ledger.js';
import { isTerminal, type Task, type TaskError } from '../core/model.js';
import { failureForUpstreamState, stateForUpstreamState } from '../upstream/states.js';
import type { UpstreamTaskStatus } from '../upstream/wire.js';
import { NO_RESULT_IMAGES } from './failure-messages.js';
import type { ScheduledStep } from './next-step.js';
import type { PollTiming } from './poll-timing.js';

/** What recording a status needs from the task steps. */
export interface StatusContext {
  readonly ledger: TaskLedger;
  readonly polls: PollTiming;
  fail(task: Task, error: TaskError, extra?: TaskPatch): Promise<void>;
  fetchResults(task: Task): Promise<ScheduledStep | null>;
}

/**
 * Records what a poll learned about a submitted task, and answers the task's next step. A failed
 * task fails here; a finished one stays PROCESSING (progress 99) with its results pending, and its
 * downloads start at once: clients hear SUCCEEDED only once every image is stored and servable.
 * Anything else is written only when it changed (state, progress, PicWish's words, times), so an
 * unchanged answer costs no store write and wakes no subscriber.
 */
export async function recordUpstreamStatus(
  ctx: StatusContext,
  task: Task,
  status: UpstreamTaskStatus,
): Promise<ScheduledStep | null> {
  const mapped = stateForUpstreamState(status.state);
  const times = {
    processedAt: status.processedAt ?? task.processedAt,
    timeElapsedMs: status.timeElapsedMs ?? task.timeElapsedMs,
  };
  if (mapped === 'FAILED') {
    await ctx.fail(task, failureForUpstreamState(status.state, status.stateDetail), {
      upstreamState: status.state,
      stateDetail: status.stateDetail,
      completedAt: status.completedAt ?? Date.now(),
      ...times,
    });
    return null;
  }
  if (mapped === 'SUCCEEDED') {
    if (status.images.length === 0) {
      await ctx.fail(task, NO_RESULT_IMAGES);
      return null;
    }
    const completedAt = status.completedAt ?? Date.now();
    // PicWish reports whole seconds: on average the task ended half a second later.
    ctx.polls.finished(task, completedAt % 1000 === 0 ? completedAt + 500 : completedAt);
    const fetching = await ctx.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : {
            state: 'PROCESSING',
            upstreamState: status.state,
            stateDetail: status.stateDetail,
            progress: Math.max(current.progress, 99),
            pendingImages: status.images,
            completedAt,
            ...times,
          },
    );
    if (!fetching || isTerminal(fetching.state)) return null;
    return ctx.fetchResults(fetching);
  }
  const state = mapped ?? task.state;
  const progress = Math.max(task.progress, Math.min(status.progress, 99));
  const changed =
    state !== task.state ||
    progress !== task.progress ||
    status.state !== task.upstreamState ||
    status.stateDetail !== task.stateDetail ||
    times.processedAt !== task.processedAt;
  if (changed) {
    const updated = await ctx.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : {
            state,
            upstreamState: status.state,
            stateDetail: status.stateDetail,
            progress: Math.max(current.progress, progress),
            ...times,
          },
    );
    if (!updated || isTerminal(updated.state)) return null;
  }
  return ctx.polls.next(task, Date.now());
}
