import type { Task } from '../core/model.js';
import type { BudgetSlot } from './budget.js';
import { refusedCallFailure, TASK_LOST_UPSTREAM } from './failure-messages.js';
import { nextStep } from './next-step.js';
import { retryDelay } from './poll-policy.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';
import { recordUpstreamStatus } from './upstream-status.js';

/** How often a 404 on a poll is taken for a blip before the task counts as lost upstream. */
const NOT_FOUND_TOLERANCE = 3;

/**
 * Asks PicWish how a submitted task is doing and records the answer (upstream-status.ts). Polls
 * charge nothing, so every fault is retried; only repeated 404s, or a refusal, end the task.
 * `slot` is released as soon as the call settles.
 */
export async function pollStep(ctx: StepContext, task: Task, slot?: BudgetSlot): Promise<StepOutcome> {
  const started = Date.now();
  const answer = await ctx.deps.upstream.getTask(task.upstreamTaskId as string);
  slot?.release();
  ctx.deps.metrics.call('poll', answer.ok ? 'ok' : answer.error.kind, started);
  if (!answer.ok) {
    const fault = answer.error;
    if (fault.kind === 'not_found') {
      const seen = ctx.notFoundAgain(task.id);
      if (seen >= NOT_FOUND_TOLERANCE) {
        await ctx.fail(task, TASK_LOST_UPSTREAM);
        return ENDED;
      }
      return again(nextStep(task, { dueAt: Date.now() + retryDelay(seen) }));
    }
    if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
      return again(nextStep(task, { dueAt: Date.now() + ctx.retryAfter(task.id, fault) }));
    }
    await ctx.fail(task, refusedCallFailure(fault));
    return ENDED;
  }
  ctx.recovered(task.id);
  return recordUpstreamStatus(ctx, task, answer.value);
}
