import { isTerminal, type Task } from '../core/model.js';
import type { StoredImage } from '../results/stored-image.js';
import { unstorableResult } from './failure-messages.js';
import { nextStep } from './next-step.js';
import type { StepContext } from './step-context.js';
import { again, ENDED, type StepOutcome } from './step-outcome.js';

/**
 * Downloads and stores every result before anyone hears SUCCEEDED. A failed download (a blip,
 * or even a 404 from a link that should live for an hour) is retried with backoff until the
 * link's hour is nearly over (`RESULT_FETCH_WINDOW_MS`, checked by `TaskSteps.take`), then the
 * task fails with RESULT_UNAVAILABLE. Only a result that is not an image fails at once. Results
 * of a task cancelled or deleted meanwhile are thrown away, not kept. No budget slot: result
 * links are not API calls.
 */
export async function fetchStep(ctx: StepContext, task: Task): Promise<StepOutcome> {
  const { fetcher, ledger, logger, traces, metrics } = ctx.deps;
  const stored: StoredImage[] = [];
  for (const pending of task.pendingImages) {
    const result = await traces.child('results.download', { 'task.id': task.id }, () =>
      fetcher.fetch(task.id, pending),
    );
    if (!result.ok) {
      if (result.error.kind !== 'invalid') {
        logger.warn({ taskId: task.id, detail: result.error.detail }, 'result download failed; will retry');
        return again(nextStep(task, { dueAt: Date.now() + ctx.retryAfter(task.id, null) }));
      }
      await ctx.fail(task, unstorableResult(result.error.detail));
      return ENDED;
    }
    stored.push(result.value);
  }
  const done = await ledger.update(task.id, (current) =>
    isTerminal(current.state)
      ? null
      : { state: 'SUCCEEDED', progress: 100, images: stored, pendingImages: [], error: null },
  );
  if (done?.state === 'SUCCEEDED') {
    ctx.recovered(task.id);
    metrics.finished('SUCCEEDED');
    metrics.charged(task, done);
  } else {
    // Cancelled or deleted while downloading: its late results are not kept.
    await fetcher.discard(task.id);
  }
  return ENDED;
}
