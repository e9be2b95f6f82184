// One file for the whole task state machine, over 300 lines on purpose: the resubmission rule is
// stated once here and both charged calls (the create and the background removal, #14) sit beside
// it, so whoever changes one sees the rule and the other.
import type { Logger } from 'pino';
import type { TaskLedger, TaskPatch } from '../core/ledger.js';
import { CUTOUT_PROGRESS_SHARE, isTerminal, type Task, type TaskError } from '../core/model.js';
import type { UploadSpool } from '../core/upload-spool.js';
import { checkDecodedTransparency } from '../images/index.js';
import type { ResultFetcher } from '../results/fetcher.js';
import type { StoredImage } from '../results/stored-image.js';
import type { UpstreamClient, UpstreamFault } from '../upstream/client.js';
import type { OutgoingImage } from '../upstream/wire.js';
import type { UpstreamBudget } from './budget.js';
import type { CreateJournal } from './create-journal.js';
import {
  CREATE_INTERRUPTED,
  CUTOUT_GONE,
  CUTOUT_INTERRUPTED,
  cutoutFailure,
  expiryFailure,
  refusedCallFailure,
  refusedCutoutFailure,
  TASK_LOST_UPSTREAM,
  UPLOAD_GONE,
  unclearCreateAnswer,
  unclearCutoutAnswer,
  unstorableResult,
  unusableCutout,
} from './failure-messages.js';
import { expiresAt, nextStep, type ScheduledStep, stepKindOf } from './next-step.js';
import { retryDelay } from './poll-policy.js';
import type { PollTiming } from './poll-timing.js';
import type { QueuePositions } from './queue-positions.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { TaskTraces } from './task-traces.js';
import { recordUpstreamStatus, type StatusContext } from './upstream-status.js';

/** How often a 404 on a poll is taken for a blip before the task counts as lost upstream. */
const NOT_FOUND_TOLERANCE = 3;

/** What the steps work with. */
export interface TaskStepsDeps {
  readonly ledger: TaskLedger;
  readonly upstream: UpstreamClient;
  readonly fetcher: ResultFetcher;
  readonly spool: UploadSpool;
  /** Keeps an accepted create's upstream id until the record holds it. */
  readonly journal: CreateJournal;
  readonly budget: UpstreamBudget;
  readonly logger: Logger;
  readonly metrics: SchedulerMetrics;
  readonly queue: QueuePositions;
  readonly polls: PollTiming;
  /** Each step's span, under the trace of the request that created the task. */
  readonly traces: TaskTraces;
  /** The step's upstream call settled: its budget slot may go to the next step at once. */
  releaseSlot(taskId: string): void;
}

/**
 * The task state machine, one step at a time: each step reads the task's record, does the one
 * thing it asks for (create, poll, download results — see `stepKindOf`), records the outcome
 * through the ledger, and answers when to come back (null: the task needs nothing more). A step
 * never overwrites a task that became terminal meanwhile (cancelled, deleted): every write checks.
 */
export class TaskSteps {
  readonly #deps: TaskStepsDeps;
  /** Consecutive transient faults per task, for the backoff. */
  readonly #failures = new Map<string, number>();
  /** Consecutive 404s on polls per task. */
  readonly #notFound = new Map<string, number>();

  readonly #statusContext: StatusContext;

  constructor(deps: TaskStepsDeps) {
    this.#deps = deps;
    this.#statusContext = {
      ledger: deps.ledger,
      polls: deps.polls,
      fail: (task, error, extra) => this.#fail(task, error, extra),
      fetchResults: (task) => this.#fetchResults(task),
    };
  }

  /** Takes the next step of task `id`; answers the step after it, or null when it needs nothing more. */
  async take(id: string): Promise<ScheduledStep | null> {
    const task = await this.#deps.ledger.store.get(id);
    if (!task || isTerminal(task.state)) return null;
    const now = Date.now();
    const kind = stepKindOf(task);
    if (task.submitInFlight) {
      const journaled = kind === 'submit' ? await this.#deps.journal.find(task.id) : null;
      if (journaled !== null) return this.#submitted(task, journaled);
      await this.#fail(task, kind === 'cutout' ? CUTOUT_INTERRUPTED : CREATE_INTERRUPTED);
      return null;
    }
    if (now > expiresAt(task)) {
      await this.#fail(task, expiryFailure(task, now));
      return null;
    }
    return this.#deps.traces.step(task.id, kind, () => {
      switch (kind) {
        case 'fetch':
          return this.#fetchResults(task);
        case 'cutout':
          return this.#cutout(task);
        case 'submit':
          return this.#submit(task);
        default:
          return this.#poll(task);
      }
    });
  }

  /** Forgets the task's retry counters (it is no longer driven here). */
  forget(id: string): void {
    this.#failures.delete(id);
    this.#notFound.delete(id);
    this.#deps.traces.forget(id);
  }

  /**
   * Sends the create. **The resubmission rule** (the one statement of it; README.md and
   * docs/errors.md link here): a create is sent to PicWish again only when the previous attempt
   * provably created nothing — the connection was never made (refused, DNS failure, connect
   * timeout), or PicWish answered with an error (5xx, 429, or an HTML error page from a proxy).
   * When the request may have reached PicWish and been acted on — a timeout or a reset after it
   * was sent, a 200 without a `task_id`, a 2xx that is not JSON (the client marks these
   * `mayHaveCreated`) — the task fails with UPSTREAM_OUTCOME_UNKNOWN instead of risking a second
   * charge. The same holds after a crash: `submitInFlight` is recorded before the call, so a task
   * found with it set is failed (`take`), not resent. Polls never charge anything and are always
   * retried. The background removal of a `removeBackground` task (`#cutout`) is charged too and
   * follows the same rule, with the same `submitInFlight` mark.
   */
  async #submit(task: Task): Promise<ScheduledStep | null> {
    const { ledger, upstream } = this.#deps;
    const stored = task.cutout?.status === 'stored' ? task.cutout.image : null;
    let cutout: OutgoingImage | null = null;
    if (stored) {
      try {
        cutout = { kind: 'bytes', data: await this.#deps.fetcher.load(stored), name: 'cutout.png' };
      } catch {
        await this.#fail(task, CUTOUT_GONE);
        return null;
      }
    }
    // Found before the call is marked in flight: an upload that must first be fetched from the
    // mirror (another instance accepted it) and a mirror that does not answer leave nothing sent.
    const image = cutout ?? (await this.#sourceImage(task));
    if (!image) {
      await this.#fail(task, UPLOAD_GONE);
      return null;
    }
    const sending = await ledger.commit(task, { submitInFlight: true, attempts: task.attempts + 1 });
    if (!sending) return nextStep(task, { dueAt: Date.now() });
    const started = Date.now();
    let answer: Awaited<ReturnType<UpstreamClient['createTask']>>;
    try {
      answer = await upstream.createTask({
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
      if (cutout || !(await this.#uploadGone(sending))) throw error;
      await this.#fail(sending, UPLOAD_GONE);
      return null;
    }
    this.#deps.releaseSlot(task.id);
    this.#deps.metrics.call('create', answer.ok ? 'ok' : answer.error.kind, started);
    if (answer.ok) {
      await this.#deps.journal.record(sending.id, answer.value.taskId).catch((error: unknown) => {
        // The record below is the durable copy; the journal only covers its failing.
        this.#deps.logger.warn(
          { err: (error as Error).message, taskId: task.id },
          'could not journal a create',
        );
      });
      return this.#submitted(sending, answer.value.taskId);
    }
    return this.#refused(task, sending, answer.error, unclearCreateAnswer, refusedCallFailure);
  }

  /**
   * Records an accepted create's upstream id — just after the call, or later from the journal when
   * that first write failed — then lets go of the upload and the journal entry. A write that fails
   * throws: the run loop tries the step again, and `take` finds the id in the journal.
   */
  async #submitted(task: Task, upstreamTaskId: string): Promise<ScheduledStep | null> {
    const now = Date.now();
    const submitted = await this.#deps.ledger.update(task.id, (current) =>
      isTerminal(current.state) ? null : { submitInFlight: false, upstreamTaskId, submittedAt: now },
    );
    this.#failures.delete(task.id);
    this.#deps.queue.leave(task.id);
    await this.#deps.spool.discard(task.source);
    await this.#deps.journal.settle(task.id).catch(() => undefined);
    if (!submitted || isTerminal(submitted.state)) return null;
    return this.#deps.polls.next(submitted, now);
  }

  /**
   * Removes the photo's background (#14) and stores the cutout in the blob store before anything
   * is generated; from then on the record says so (`cutout.status: 'stored'`), the photo leaves
   * the spool, and the task is PROCESSING at CUTOUT_PROGRESS_SHARE %. A restart after that goes
   * straight to the create and never asks for the cutout again. The call is charged, so it obeys
   * the resubmission rule (`#submit`): marked in flight before it is sent, failed rather than
   * resent when PicWish may have acted on it.
   */
  async #cutout(task: Task): Promise<ScheduledStep | null> {
    const { ledger, upstream, fetcher, spool } = this.#deps;
    const photo = await this.#sourceImage(task);
    if (!photo) {
      await this.#fail(task, UPLOAD_GONE);
      return null;
    }
    const sending = await ledger.commit(task, { submitInFlight: true, attempts: task.attempts + 1 });
    if (!sending) return nextStep(task, { dueAt: Date.now() });
    const started = Date.now();
    let answer: Awaited<ReturnType<UpstreamClient['removeBackground']>>;
    try {
      answer = await upstream.removeBackground(photo);
    } catch (error) {
      if (!(await this.#uploadGone(sending))) throw error;
      await this.#fail(sending, UPLOAD_GONE);
      return null;
    }
    this.#deps.releaseSlot(task.id);
    this.#deps.metrics.call('cutout', answer.ok ? 'ok' : answer.error.kind, started);
    if (!answer.ok) {
      return this.#refused(task, sending, answer.error, unclearCutoutAnswer, refusedCutoutFailure);
    }
    if (!answer.value.done) {
      await this.#fail(sending, cutoutFailure(answer.value.state, answer.value.detail));
      return null;
    }
    const { image } = answer.value;
    const kept = await this.#deps.traces.child('cutout.store', { 'task.id': task.id }, () =>
      fetcher.fetch(task.id, image),
    );
    if (!kept.ok) {
      await this.#fail(sending, unusableCutout(`${kept.error.detail}.`));
      return null;
    }
    const usable = await checkDecodedTransparency(await fetcher.load(kept.value));
    if (!usable.ok) {
      await fetcher.discard(task.id);
      await this.#fail(sending, unusableCutout(usable.error.message));
      return null;
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
    if (cut) this.#deps.metrics.charged(sending, cut);
    this.#failures.delete(task.id);
    this.#deps.queue.leave(task.id);
    await spool.discard(sending.source);
    if (!cut || isTerminal(cut.state)) {
      // Cancelled or deleted meanwhile: its late cutout is not kept.
      await fetcher.discard(task.id);
      return null;
    }
    return nextStep(cut, { dueAt: Date.now() });
  }

  /**
   * The task's own image as PicWish is sent it: a local file of its upload (with the type the
   * intake found; fetched from the mirror if another instance accepted it), or its URL. Null when
   * the upload is gone.
   */
  async #sourceImage(task: Task): Promise<OutgoingImage | null> {
    if (task.source.kind === 'url') return { kind: 'url', url: task.source.url };
    const path = await this.#deps.spool.localPath(task.source);
    return path === null ? null : { kind: 'file', path, contentType: task.source.contentType };
  }

  /** True when a spooled upload can no longer be read: nothing can have been sent from it. */
  async #uploadGone(task: Task): Promise<boolean> {
    return task.source.kind === 'file' && !(await this.#deps.spool.isReadable(task.source));
  }

  /**
   * What a failed charged call (create or background removal) means, by the resubmission rule:
   * an answer PicWish may have acted on fails the task (`unclear`), a blip or a 429 is tried
   * again, anything else fails it as refused (`refusedAs`).
   */
  async #refused(
    task: Task,
    sending: Task,
    fault: UpstreamFault,
    unclear: (detail: string) => TaskError,
    refusedAs: (fault: UpstreamFault) => TaskError,
  ): Promise<ScheduledStep | null> {
    const { ledger } = this.#deps;
    if (fault.kind === 'transient' && fault.mayHaveCreated) {
      await this.#fail(sending, unclear(fault.detail));
      return null;
    }
    if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
      const retried = await ledger.update(sending.id, (current) =>
        isTerminal(current.state) ? null : { submitInFlight: false },
      );
      if (!retried || isTerminal(retried.state)) return null;
      const delay = this.#retryAfter(task.id, fault);
      // A 429 pauses the whole budget, so the task can keep its place in the arrival order.
      if (fault.kind === 'rate_limited') return nextStep(retried, { dueAt: task.createdAt });
      return nextStep(retried, { dueAt: Date.now() + delay });
    }
    await this.#fail(sending, refusedAs(fault));
    return null;
  }

  async #poll(task: Task): Promise<ScheduledStep | null> {
    const started = Date.now();
    const answer = await this.#deps.upstream.getTask(task.upstreamTaskId as string);
    this.#deps.releaseSlot(task.id);
    this.#deps.metrics.call('poll', answer.ok ? 'ok' : answer.error.kind, started);
    if (!answer.ok) {
      const fault = answer.error;
      if (fault.kind === 'not_found') {
        const seen = (this.#notFound.get(task.id) ?? 0) + 1;
        this.#notFound.set(task.id, seen);
        if (seen >= NOT_FOUND_TOLERANCE) {
          await this.#fail(task, TASK_LOST_UPSTREAM);
          return null;
        }
        return nextStep(task, { dueAt: Date.now() + retryDelay(seen) });
      }
      if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
        return nextStep(task, { dueAt: Date.now() + this.#retryAfter(task.id, fault) });
      }
      await this.#fail(task, refusedCallFailure(fault));
      return null;
    }
    this.#failures.delete(task.id);
    this.#notFound.delete(task.id);
    return recordUpstreamStatus(this.#statusContext, task, answer.value);
  }

  /**
   * Downloads and stores every result before anyone hears SUCCEEDED. A failed download (a blip,
   * or even a 404 from a link that should live for an hour) is retried with backoff until the
   * link's hour is nearly over (`RESULT_FETCH_WINDOW_MS`, checked by `take`), then the task fails
   * with RESULT_UNAVAILABLE. Only a result that is not an image fails at once. Results of a task
   * cancelled or deleted meanwhile are thrown away, not kept.
   */
  async #fetchResults(task: Task): Promise<ScheduledStep | null> {
    const { fetcher, ledger, logger } = this.#deps;
    const stored: StoredImage[] = [];
    for (const pending of task.pendingImages) {
      const result = await this.#deps.traces.child('results.download', { 'task.id': task.id }, () =>
        fetcher.fetch(task.id, pending),
      );
      if (!result.ok) {
        if (result.error.kind !== 'invalid') {
          logger.warn({ taskId: task.id, detail: result.error.detail }, 'result download failed; will retry');
          return nextStep(task, { dueAt: Date.now() + this.#retryAfter(task.id, null) });
        }
        await this.#fail(task, unstorableResult(result.error.detail));
        return null;
      }
      stored.push(result.value);
    }
    const done = await ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : { state: 'SUCCEEDED', progress: 100, images: stored, pendingImages: [], error: null },
    );
    if (done?.state === 'SUCCEEDED') {
      this.#failures.delete(task.id);
      this.#deps.metrics.finished('SUCCEEDED');
      this.#deps.metrics.charged(task, done);
    } else {
      // Cancelled or deleted while downloading: its late results are not kept.
      await fetcher.discard(task.id);
    }
    return null;
  }

  /** Ends the task with `error` (unless it ended otherwise meanwhile) and lets go of its upload. */
  async #fail(task: Task, error: TaskError, extra: TaskPatch = {}): Promise<void> {
    const failed = await this.#deps.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : { ...extra, state: 'FAILED', error, submitInFlight: false, pendingImages: [] },
    );
    if (failed?.state === 'FAILED' && failed.error === error) {
      this.#deps.metrics.finished('FAILED', error.code);
      this.#deps.logger.info({ taskId: task.id, code: error.code }, 'task failed');
    }
    if (!task.upstreamTaskId) this.#deps.queue.leave(task.id);
    await this.#deps.spool.discard(task.source);
  }

  /** How long to wait after a fault: PicWish's pause after a 429 (for everyone), else backoff. */
  #retryAfter(id: string, fault: UpstreamFault | null): number {
    if (fault?.kind === 'rate_limited') {
      const pause = fault.retryAfterMs ?? 1_000;
      this.#deps.budget.backOff(pause);
      return pause;
    }
    const failures = (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, failures);
    return retryDelay(failures);
  }
}
