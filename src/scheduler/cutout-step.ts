import { CUTOUT_PROGRESS_SHARE, isTerminal, type Task } from '../core/model.js';
import { checkDecodedTransparency } from '../images/index.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { BudgetSlot } from './budget.js';
import { readyToSend, refused, sourceImage, uploadGone } from './charged-calls.js';
import {
  cutoutFailure,
  refusedCutoutFailure,
  UPLOAD_GONE,
  unclearCutoutAnswer,
  unusableCutout,
} from './failure-messages.js';
import { nextStep } from './next-step.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';

/**
 * Removes the photo's background (#14) and stores the cutout in the blob store before anything
 * is generated; from then on the record says so (`cutout.status: 'stored'`), the photo leaves
 * the spool, and the task is PROCESSING at CUTOUT_PROGRESS_SHARE %. A restart after that goes
 * straight to the create and never asks for the cutout again. The call is charged, so it obeys
 * the resubmission rule (charged-calls.ts). `slot` is released as soon as the call settles.
 */
export async function cutoutStep(ctx: StepContext, task: Task, slot?: BudgetSlot): Promise<StepOutcome> {
  const { ledger, upstream, fetcher, spool, metrics, traces, queue } = ctx.deps;
  const ready = await readyToSend(ctx, task, await sourceImage(ctx, task));
  if ('outcome' in ready) return ready.outcome;
  const { sending, image: photo } = ready;
  const started = Date.now();
  let answer: Awaited<ReturnType<UpstreamClient['removeBackground']>>;
  try {
    answer = await upstream.removeBackground(photo);
  } catch (error) {
    if (!(await uploadGone(ctx, sending))) throw error;
    await ctx.fail(sending, UPLOAD_GONE);
    return ENDED;
  }
  slot?.release();
  metrics.call('cutout', answer.ok ? 'ok' : answer.error.kind, started);
  if (!answer.ok) {
    return refused(ctx, task, sending, answer.error, unclearCutoutAnswer, refusedCutoutFailure);
  }
  if (!answer.value.done) {
    await ctx.fail(sending, cutoutFailure(answer.value.state, answer.value.detail));
    return ENDED;
  }
  const { image } = answer.value;
  const kept = await traces.child('cutout.store', { 'task.id': task.id }, () =>
    fetcher.fetch(task.id, image),
  );
  if (!kept.ok) {
    await ctx.fail(sending, unusableCutout(`${kept.error.detail}.`));
    return ENDED;
  }
  const usable = await checkDecodedTransparency(await fetcher.load(kept.value));
  if (!usable.ok) {
    await fetcher.discard(task.id);
    await ctx.fail(sending, unusableCutout(usable.error.message));
    return ENDED;
  }
  const cut = await ledger.update(task.id, (current) =>
    isTerminal(current.state)
      ? null
      : {
          submitInFlight: false,
          cutout: { status: 'stored', image: kept.value },
          state: 'PROCESSING',
          progress: Math.max(current.progress, CUTOUT_PROGRESS_SHARE),
        },
  );
  if (cut) metrics.charged(sending, cut);
  ctx.recovered(task.id);
  queue.leave(task.id);
  await spool.discard(sending.source);
  if (!cut || isTerminal(cut.state)) {
    // Cancelled or deleted meanwhile: its late cutout is not kept.
    await fetcher.discard(task.id);
    return ENDED;
  }
  return again(nextStep(cut, { dueAt: Date.now() }));
}
