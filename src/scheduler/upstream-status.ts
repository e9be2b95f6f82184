import { generationProgress, isTerminal, type Task } from '../core/model.js';
import { failureForUpstreamState, stateForUpstreamState } from '../upstream/states.js';
import type { UpstreamTaskStatus } from '../upstream/wire.js';
import { NO_RESULT_IMAGES } from './failure-messages.js';
import { fetchStep } from './fetch-step.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';

/**
 * Records what a poll learned about a submitted task, and answers the task's next step. A failed
 * task fails here; a finished one stays PROCESSING (progress 99) with its results pending, and its
 * downloads start at once: clients hear SUCCEEDED only once every image is stored and servable.
 * Anything else is written only when it changed (state, progress, PicWish's words, times), so an
 * unchanged answer costs no store write and wakes no subscriber.
 */
export async function recordUpstreamStatus(
  ctx: StepContext,
  task: Task,
  status: UpstreamTaskStatus,
): Promise<StepOutcome> {
  const { ledger, polls } = ctx.deps;
  const mapped = stateForUpstreamState(status.state);
  const times = {
    processedAt: status.processedAt ?? task.processedAt,
    timeElapsedMs: status.timeElapsedMs ?? task.timeElapsedMs,
  };
  // The gateway's own clock says when it learned the outcome: the result-download window runs
  // from it (next-step.ts), so an upstream's `completed_at: 1` cannot expire the results at once.
  const completedAt = Date.now();
  if (mapped === 'FAILED') {
    await ctx.fail(task, failureForUpstreamState(status.state, status.stateDetail), {
      upstreamState: status.state,
      stateDetail: status.stateDetail,
      completedAt,
      ...times,
    });
    return ENDED;
  }
  if (mapped === 'SUCCEEDED') {
    if (status.images.length === 0) {
      await ctx.fail(task, NO_RESULT_IMAGES);
      return ENDED;
    }
    polls.finished(task, upstreamFinishedAt(task, status, completedAt));
    const fetching = await ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : {
            state: 'PROCESSING',
            upstreamState: status.state,
            stateDetail: status.stateDetail,
            progress: Math.max(current.progress, 99),
            // PicWish may send more images than were asked for (image_1…image_4 and image): only
            // the task's batchSize are stored, as many as were paid for.
            pendingImages: status.images.slice(0, task.batchSize),
            completedAt,
            ...times,
          },
    );
    if (!fetching || isTerminal(fetching.state)) return ENDED;
    return fetchStep(ctx, fetching);
  }
  const state = mapped ?? task.state;
  // A removeBackground task's cutout is the first part of its progress (#14).
  const progress = Math.max(task.progress, Math.min(generationProgress(task, status.progress), 99));
  const changed =
    state !== task.state ||
    progress !== task.progress ||
    status.state !== task.upstreamState ||
    status.stateDetail !== task.stateDetail ||
    times.processedAt !== task.processedAt;
  if (changed) {
    const updated = await ledger.update(task.id, (current) =>
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
    if (!updated || isTerminal(updated.state)) return ENDED;
  }
  return again(polls.next(task, Date.now()));
}

/**
 * When PicWish says the task ended, for the poll timing's estimate of run times: its
 * `completed_at` when that lies between the submission and now, else now. PicWish reports whole
 * seconds: on average the task ended half a second later.
 */
function upstreamFinishedAt(task: Task, status: UpstreamTaskStatus, now: number): number {
  const said = status.completedAt;
  const earliest = task.submittedAt ?? task.createdAt;
  if (said === null || said < earliest || said > now) return now;
  return said % 1000 === 0 ? Math.min(said + 500, now) : said;
}
