import { isTerminal, type Task } from '../core/model.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { OutgoingImage } from '../upstream/wire.js';
import type { BudgetSlot } from './budget.js';
import { readyToSend, refused, sourceImage, uploadGone } from './charged-calls.js';
import { CUTOUT_GONE, refusedCallFailure, UPLOAD_GONE, unclearCreateAnswer } from './failure-messages.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';

/**
 * Sends the create, under the resubmission rule (charged-calls.ts): marked in flight before it is
 * sent, failed rather than resent when PicWish may have acted on it. A task whose cutout is
 * stored sends the cutout instead of its photo. `slot` is released as soon as the call settles.
 */
export async function createStep(ctx: StepContext, task: Task, slot?: BudgetSlot): Promise<StepOutcome> {
  const { deps } = ctx;
  const stored = task.cutout?.status === 'stored' ? task.cutout.image : null;
  let cutout: OutgoingImage | null = null;
  if (stored) {
    try {
      cutout = { kind: 'bytes', data: await deps.fetcher.load(stored), name: 'cutout.png' };
    } catch {
      await ctx.fail(task, CUTOUT_GONE);
      return ENDED;
    }
  }
  // Found before the call is marked in flight: an upload that must first be fetched from the
  // mirror (another instance accepted it) and a mirror that does not answer leave nothing sent.
  const ready = await readyToSend(ctx, task, cutout ?? (await sourceImage(ctx, task)));
  if ('outcome' in ready) return ready.outcome;
  const { sending, image } = ready;
  const started = Date.now();
  let answer: Awaited<ReturnType<UpstreamClient['createTask']>>;
  try {
    answer = await deps.upstream.createTask({
      image,
      prompt: sending.prompt,
      sceneType: sending.sceneType,
      negativePrompt: sending.negativePrompt,
      batchSize: sending.batchSize,
    });
  } catch (error) {
    // The client answers every network outcome as a value; an upload it cannot open (removed, or a
    // DATA_DIR the cluster does not share) throws before anything is sent. Left to the generic retry,
    // the task would later fail as UPSTREAM_OUTCOME_UNKNOWN, which it is not.
    if (cutout || !(await uploadGone(ctx, sending))) throw error;
    await ctx.fail(sending, UPLOAD_GONE);
    return ENDED;
  }
  slot?.release();
  deps.metrics.call('create', answer.ok ? 'ok' : answer.error.kind, started);
  if (answer.ok) {
    await deps.journal.record(sending.id, answer.value.taskId).catch((error: unknown) => {
      // The record below is the durable copy; the journal only covers its failing.
      deps.logger.warn({ err: (error as Error).message, taskId: task.id }, 'could not journal a create');
    });
    return recordSubmitted(ctx, sending, answer.value.taskId);
  }
  return refused(ctx, task, sending, answer.error, unclearCreateAnswer, refusedCallFailure);
}

/**
 * Records an accepted create's upstream id — just after the call, or later from the journal when
 * that first write failed — then lets go of the upload and the journal entry. A write that fails
 * throws: the run loop tries the step again, and `TaskSteps.take` finds the id in the journal.
 */
export async function recordSubmitted(
  ctx: StepContext,
  task: Task,
  upstreamTaskId: string,
): Promise<StepOutcome> {
  const { deps } = ctx;
  const now = Date.now();
  const submitted = await deps.ledger.update(task.id, (current) =>
    isTerminal(current.state) ? null : { submitInFlight: false, upstreamTaskId, submittedAt: now },
  );
  ctx.recovered(task.id);
  deps.queue.leave(task.id);
  await deps.spool.discard(task.source);
  await deps.journal.settle(task.id).catch(() => undefined);
  if (!submitted || isTerminal(submitted.state)) return ENDED;
  return again(deps.polls.next(submitted, now));
}
