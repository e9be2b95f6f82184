import { isTerminal, type Task, type TaskError } from '../core/model.js';
import type { UpstreamFault } from '../upstream/client.js';
import type { OutgoingImage } from '../upstream/wire.js';
import { UPLOAD_GONE } from './failure-messages.js';
import { nextStep } from './next-step.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';

/**
 * **The resubmission rule** (the one statement of it; README.md and docs/errors.md link here),
 * for both calls PicWish charges: the create (create-step.ts) and the background removal of a
 * `removeBackground` task (cutout-step.ts, #14). A charged call is sent to PicWish again only when
 * the previous attempt provably did nothing — the connection was never made (refused, DNS
 * failure, connect timeout), or PicWish answered with an error (5xx, 429, or an HTML error page
 * from a proxy). When the request may have reached PicWish and been acted on — a timeout or a
 * reset after it was sent, a 200 without a `task_id`, a 2xx that is not JSON (the client marks
 * these `mayHaveCreated`) — the task fails with UPSTREAM_OUTCOME_UNKNOWN instead of risking a
 * second charge (`refused` below). The same holds after a crash: `submitInFlight` is recorded
 * before the call (`markSending`), so a task found with it set is failed (task-steps.ts), not
 * resent. Polls never charge anything and are always retried.
 */

/**
 * Records the charged call as in flight before it is sent; null when the task changed meanwhile
 * (the outcome then is `retake`).
 */
export function markSending(ctx: StepContext, task: Task): Promise<Task | null> {
  return ctx.deps.ledger.commit(task, { submitInFlight: true, attempts: task.attempts + 1 });
}

/**
 * The last checks before a charged call sends `image` (null: the upload is gone), found before the
 * call is marked in flight so nothing was sent: the task marked in flight, or the step's outcome
 * when it cannot be sent (failed UPLOAD_GONE, or retaken after a lost race).
 */
export async function readyToSend(
  ctx: StepContext,
  task: Task,
  image: OutgoingImage | null,
): Promise<{ readonly sending: Task; readonly image: OutgoingImage } | { readonly outcome: StepOutcome }> {
  if (!image) {
    await ctx.fail(task, UPLOAD_GONE);
    return { outcome: ENDED };
  }
  const sending = await markSending(ctx, task);
  return sending ? { sending, image } : { outcome: retake(task) };
}

/** The outcome of a step that lost a race with another writer: the record is read afresh at once. */
export function retake(task: Task): StepOutcome {
  return again(nextStep(task, { dueAt: Date.now() }));
}

/**
 * What a failed charged call means, by the resubmission rule: an answer PicWish may have acted on
 * fails the task (`unclear`), a blip or a 429 is tried again, anything else fails it as refused
 * (`refusedAs`).
 */
export async function refused(
  ctx: StepContext,
  task: Task,
  sending: Task,
  fault: UpstreamFault,
  unclear: (detail: string) => TaskError,
  refusedAs: (fault: UpstreamFault) => TaskError,
): Promise<StepOutcome> {
  if (fault.kind === 'transient' && fault.mayHaveCreated) {
    await ctx.fail(sending, unclear(fault.detail));
    return ENDED;
  }
  if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
    const retried = await ctx.deps.ledger.update(sending.id, (current) =>
      isTerminal(current.state) ? null : { submitInFlight: false },
    );
    if (!retried || isTerminal(retried.state)) return ENDED;
    const delay = ctx.retryAfter(task.id, fault);
    // A 429 pauses the whole budget, so the task can keep its place in the arrival order.
    if (fault.kind === 'rate_limited') return again(nextStep(retried, { dueAt: task.createdAt }));
    return again(nextStep(retried, { dueAt: Date.now() + delay }));
  }
  await ctx.fail(sending, refusedAs(fault));
  return ENDED;
}

/**
 * The task's own image as PicWish is sent it: a local file of its upload (with the type the
 * intake found; fetched from the mirror if another instance accepted it), or its URL. Null when
 * the upload is gone.
 */
export async function sourceImage(ctx: StepContext, task: Task): Promise<OutgoingImage | null> {
  if (task.source.kind === 'url') return { kind: 'url', url: task.source.url };
  const path = await ctx.deps.spool.localPath(task.source);
  return path === null ? null : { kind: 'file', path, contentType: task.source.contentType };
}

/** True when a spooled upload can no longer be read: nothing can have been sent from it. */
export async function uploadGone(ctx: StepContext, task: Task): Promise<boolean> {
  return task.source.kind === 'file' && !(await ctx.deps.spool.isReadable(task.source));
}
