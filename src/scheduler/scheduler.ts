import { access, constants, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { TaskEvents } from '../core/events.js';
import type { TaskLedger, TaskPatch } from '../core/ledger.js';
import { isTerminal, type Task, type TaskError } from '../core/model.js';
import type { TaskDriver } from '../core/task-driver.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { ResultFetcher } from '../results/fetcher.js';
import type { StoredImage } from '../results/stored-image.js';
import type { UpstreamClient, UpstreamFault } from '../upstream/client.js';
import { failureForUpstreamState, stateForUpstreamState } from '../upstream/states.js';
import type { UpstreamTaskStatus } from '../upstream/wire.js';
import type { BudgetSlot, UpstreamBudget } from './budget.js';
import {
  LocalOwnership,
  LocalWaitingQueue,
  type TaskOwnership,
  type WaitingQueue,
  type WatcherProbe,
} from './ownership.js';
import { DurationEstimate, planNextPoll, retryDelay } from './poll-policy.js';

/** Result links die an hour after completion; stop retrying downloads a little before that. */
export const RESULT_FETCH_WINDOW_MS = 55 * 60 * 1000;

/** The spooled upload is gone before it was sent: nothing reached PicWish, so nothing was charged. */
const UPLOAD_GONE: TaskError = {
  code: 'UPSTREAM_REJECTED',
  message: 'The uploaded image is no longer available.',
};

/** How often a 404 on a poll is taken for a blip before the task counts as lost upstream. */
const NOT_FOUND_TOLERANCE = 3;

/** What the scheduler needs; the composition root wires the real ones. */
export interface SchedulerDeps {
  readonly ledger: TaskLedger;
  readonly events: TaskEvents;
  readonly upstream: UpstreamClient;
  readonly budget: UpstreamBudget;
  readonly fetcher: ResultFetcher;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Calls in flight at once (slow or hung answers must not stall everything). */
  readonly maxInFlight?: number;
  /** Which tasks this process may drive; default: all of them (one process). */
  readonly ownership?: TaskOwnership;
  /** Where queue positions come from; default: this process's waiting tasks. */
  readonly queue?: WaitingQueue;
  /** Watchers on other processes (a cluster); default: only this process's are seen. */
  readonly watchers?: WatcherProbe;
}

interface Entry {
  dueAt: number;
  /** A poll the policy planned (for the poll-lag metric); submissions and retries are not. */
  plannedPoll: boolean;
  /** Before `dueAt`, the step may run from here on a slot nothing due wants (see poll-policy.ts). */
  earlyAt?: number;
  /** For a planned poll: when the task was submitted, to re-aim it when the expected duration drops. */
  submittedAt?: number;
}

/** What a free budget slot goes to: a create, or anything else (polls). */
type SlotClass = 'create' | 'poll';

/**
 * With due creates and due polls both waiting, this many polls go before each create: a poll of
 * a finished task completes it with one call, while a create only starts one. Creates still get a
 * third of the budget under any load.
 */
const POLLS_PER_CREATE = 2;

/**
 * Drives every unfinished task to its end — whether or not anyone watches — with the upstream
 * budget as the only pace. There is one entry per task, never more: that is what makes it one
 * poller per task however many clients subscribe.
 *
 * Each task's next step is derived from its record: not submitted → create; results pending →
 * download them (no budget: result links are not API calls); otherwise → poll. Steps are taken
 * earliest-due first; a step that needs the budget takes a slot, then the most urgent due step
 * gets it, so new submissions (due at arrival) go in arrival order and overdue polls are never
 * starved by a burst of creates.
 *
 * The resubmission rule: a create is sent again only when the previous attempt provably created
 * nothing — no connection was made, or PicWish answered with an error (429, 5xx). A timeout, a
 * reset after sending, or a 200 without a task id might have created a task we cannot name, so
 * the task fails with UPSTREAM_OUTCOME_UNKNOWN instead of risking a second charge. The same holds
 * after a crash: `submitInFlight` found set means the outcome is unknown.
 */
export class TaskScheduler implements TaskDriver {
  readonly #deps: SchedulerDeps;
  readonly #entries = new Map<string, Entry>();
  /** Tasks waiting for submission, by arrival, for queue positions. */
  readonly #waiting = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #notFound = new Map<string, number>();
  readonly #durations = new DurationEstimate();
  /** Slots given to polls since the last create, so due creates and due polls take turns. */
  #pollsSinceCreate = POLLS_PER_CREATE;
  readonly #steps = new Set<Promise<void>>();
  /** Budget slots held by steps in flight, released as soon as their upstream call settles. */
  readonly #slots = new Map<string, BudgetSlot>();
  readonly #stopping = new AbortController();
  /** Timers that fail a waiting task the moment its `deadlineSeconds` runs out. */
  readonly #deadlines = new Map<string, NodeJS.Timeout>();
  readonly #ownership: TaskOwnership;
  readonly #queue: WaitingQueue;
  #scan: NodeJS.Timeout | null = null;
  #stopQueueMoves: (() => void) | null = null;
  /** Tasks driven here that subscribers on other processes watch (refreshed by `#watchRefresh`). */
  #remoteWatched = new Set<string>();
  #watchRefresh: NodeJS.Timeout | null = null;
  /** A refresh of watched waiting tasks runs, and another was asked for meanwhile. */
  #refreshing = false;
  #refreshAgain = false;
  #running = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#ownership = deps.ownership ?? new LocalOwnership();
    this.#queue = deps.queue ?? new LocalWaitingQueue();
  }

  /** Picks up every unfinished task in the store (after a restart, too) and starts working. */
  async start(): Promise<void> {
    this.#running = true;
    this.#stopQueueMoves = this.#deps.events.onQueueMove(() => void this.#refreshWatchedWaiting());
    const probe = this.#deps.watchers;
    if (probe) {
      this.#watchRefresh = setInterval(() => {
        const ids = [...this.#entries.keys(), ...this.#inFlight].filter(
          (id) => this.#deps.events.watcherCount(id) === 0,
        );
        probe.watched(ids).then(
          (watched) => {
            this.#remoteWatched = watched;
          },
          () => {
            // Redis unreachable: keep the last answer.
          },
        );
      }, probe.refreshEveryMs);
      this.#watchRefresh.unref();
    }
    await this.#adopt();
    const every = this.#ownership.scanEveryMs;
    if (every !== null) {
      // In a cluster: take over the tasks of processes that died (their leases lapsed).
      this.#scan = setInterval(() => {
        this.#adopt().catch((error: unknown) =>
          this.#deps.logger.warn({ err: (error as Error).message }, 'could not look for orphaned tasks'),
        );
      }, every);
      this.#scan.unref();
    }
    this.#loop = this.#run();
  }

  /**
   * Claims the unfinished tasks nobody drives (every one, for a lone process) and drives them. In a
   * cluster this runs every `scanEveryMs`, so it reads ids only and fetches just the tasks it won.
   */
  async #adopt(): Promise<void> {
    const { store } = this.#deps.ledger;
    const candidates = (await store.listUnfinishedIds()).filter(
      (id) => !this.#entries.has(id) && !this.#inFlight.has(id),
    );
    if (candidates.length === 0 || !this.#running) return;
    const mine = await this.#ownership.claim(candidates);
    if (!this.#running) {
      // stop() ran meanwhile and handed its leases back: these go back too rather than lapse.
      for (const id of mine) this.#ownership.release(id).catch(() => {});
      return;
    }
    const tasks = await Promise.all(mine.map((id) => store.get(id)));
    for (const [i, task] of tasks.entries()) {
      if (!task || isTerminal(task.state)) {
        // Finished (or deleted) since the listing: nothing to drive, so no lease to keep.
        this.#ownership.release(mine[i] as string).catch(() => {});
        continue;
      }
      if (this.#entries.has(task.id) || this.#inFlight.has(task.id)) continue;
      this.#add(task);
    }
  }

  /** Stops taking new steps and waits for the ones in flight, so nothing is left half-recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#scan) clearInterval(this.#scan);
    this.#stopQueueMoves?.();
    if (this.#watchRefresh) clearInterval(this.#watchRefresh);
    for (const timer of this.#deadlines.values()) clearTimeout(timer);
    this.#deadlines.clear();
    this.#stopping.abort();
    this.#poke();
    await this.#loop;
    await Promise.allSettled([...this.#steps]);
    // Hand the unfinished tasks over now rather than when their leases lapse.
    await this.#ownership.releaseAll().catch((error: unknown) => {
      this.#deps.logger.warn({ err: (error as Error).message }, 'could not release task leases');
    });
    this.#ownership.close();
  }

  /** Starts driving a task (a new one, or one found unfinished) once this process owns it. */
  track(task: Task, dueAt: number = Date.now()): void {
    if (isTerminal(task.state)) return;
    if (this.#ownership.holds(task.id)) {
      this.#add(task, dueAt);
      return;
    }
    // In the cluster's queue at once, whoever ends up driving it.
    if (!task.upstreamTaskId) this.#queue.add(task.id, task.createdAt);
    this.#ownership.claim([task.id]).then(
      (mine) => {
        // The periodic scan may have claimed and driven it meanwhile: `task` is then a stale snapshot
        // that would put a submitted task back in the waiting queue.
        if (!mine.includes(task.id)) return;
        if (!this.#running) {
          // Won after stop() handed everything back: give it back too rather than let it lapse.
          this.#ownership.release(task.id).catch(() => {});
          return;
        }
        if (this.#entries.has(task.id) || this.#inFlight.has(task.id)) return;
        this.#add(task, dueAt);
      },
      (error: unknown) => {
        // Not lost: the periodic scan claims it once the lease store answers again.
        this.#deps.logger.warn({ err: (error as Error).message, taskId: task.id }, 'could not claim a task');
      },
    );
  }

  #add(task: Task, dueAt: number = Date.now()): void {
    if (!task.upstreamTaskId) {
      this.#waiting.set(task.id, task.createdAt);
      this.#queue.add(task.id, task.createdAt);
      if (task.startBy !== null) this.#armDeadline(task.id, task.startBy);
    }
    this.#entries.set(task.id, { dueAt, plannedPoll: false });
    this.#updateGauges();
    this.#poke();
  }

  /** Stops driving a task that was cancelled or deleted; a step in flight finds it terminal. */
  untrack(taskId: string): void {
    const wasWaiting = this.#waiting.has(taskId);
    this.#forget(taskId);
    if (wasWaiting) this.#announceQueueMove();
    this.#updateGauges();
  }

  /** 1-based place among tasks not yet sent to PicWish (cluster-wide with Redis); null once sent. */
  queuePosition(taskId: string): Promise<number | null> {
    return this.#queue.position(taskId);
  }

  /** A hint for when a waiting task will be sent: one budget slot per task ahead of it. */
  async estimatedStartAt(taskId: string, now: number = Date.now()): Promise<Date | null> {
    const position = await this.queuePosition(taskId);
    if (position === null) return null;
    return new Date(now + (position - 1) * (1000 / this.#deps.budget.qps));
  }

  /** Tasks waiting for submission, for metrics and tests. */
  get queueLength(): number {
    return this.#waiting.size;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const next = this.#pick(Date.now());
      if (!next) {
        await this.#sleep(this.#nextWake() - Date.now());
        continue;
      }
      if (this.#inFlight.size >= (this.#deps.maxInFlight ?? 16)) {
        await this.#sleep(1_000);
        continue;
      }
      if (await this.#needsBudget(next.id)) {
        const slot = await this.#deps.budget.acquire(this.#stopping.signal);
        if (!slot || !this.#running) {
          slot?.release(false);
          break;
        }
        this.#deps.metrics.budgetGranted.inc();
        // The slot goes to whatever is most urgent now, which may have arrived while we waited.
        const chosen = this.#pick(Date.now());
        if (!chosen) {
          slot.release(false);
          continue;
        }
        this.#pollsSinceCreate = this.#classOf(chosen.id) === 'create' ? 0 : this.#pollsSinceCreate + 1;
        this.#dispatch(chosen.id, chosen.entry, slot);
      } else {
        this.#dispatch(next.id, next.entry);
      }
    }
  }

  /**
   * The step to run now, or null if none may run yet. Due steps first: the earliest-due create
   * (arrival order) and the earliest-due other step; with both waiting they take turns
   * (`POLLS_PER_CREATE` polls, then a create), so a burst of creates cannot hold back polls of
   * finished tasks, nor the reverse. Only when nothing is due, the step whose early time came
   * first (a poll on an otherwise idle slot).
   */
  #pick(now: number): { id: string; entry: Entry } | null {
    let create: { id: string; entry: Entry } | null = null;
    let other: { id: string; entry: Entry } | null = null;
    let early: { id: string; entry: Entry } | null = null;
    for (const [id, entry] of this.#entries) {
      if (this.#inFlight.has(id)) continue;
      if (entry.dueAt <= now) {
        if (this.#classOf(id) === 'create') {
          if (!create || entry.dueAt < create.entry.dueAt) create = { id, entry };
        } else if (!other || entry.dueAt < other.entry.dueAt) other = { id, entry };
      } else if (entry.earlyAt !== undefined && entry.earlyAt <= now) {
        if (!early || entry.earlyAt < (early.entry.earlyAt as number)) early = { id, entry };
      }
    }
    if (create && other) return this.#pollsSinceCreate >= POLLS_PER_CREATE ? create : other;
    return create ?? other ?? early;
  }

  #classOf(id: string): SlotClass {
    return this.#waiting.has(id) ? 'create' : 'poll';
  }

  /** When the next step becomes due or may run early; in at most a minute, to be safe. */
  #nextWake(): number {
    let wake = Date.now() + 60_000;
    for (const [id, entry] of this.#entries) {
      if (this.#inFlight.has(id)) continue;
      wake = Math.min(wake, entry.earlyAt ?? entry.dueAt, entry.dueAt);
    }
    return wake;
  }

  async #needsBudget(id: string): Promise<boolean> {
    if (!this.#ownership.holds(id)) return false;
    // An unreachable store is the step's to report (and retry), not the loop's.
    const task = await this.#deps.ledger.store.get(id).catch(() => null);
    if (!task || isTerminal(task.state) || task.submitInFlight) return false;
    if (task.pendingImages.length > 0) return false;
    return !this.#expired(task, Date.now());
  }

  #dispatch(id: string, entry: Entry, slot?: BudgetSlot): void {
    if (!this.#ownership.holds(id)) {
      // Its lease lapsed (Redis unreachable, or another process took it): not ours to drive.
      slot?.release(false);
      this.#drop(id);
      return;
    }
    this.#entries.delete(id);
    this.#inFlight.add(id);
    if (slot) this.#slots.set(id, slot);
    if (entry.plannedPoll) this.#deps.metrics.pollLag.observe(Math.max(0, Date.now() - entry.dueAt) / 1000);
    const step = this.#step(id)
      .then((next) => {
        if (next && this.#running) this.#entries.set(id, next);
        else if (!next) this.#forget(id);
      })
      .catch((error: unknown) => {
        this.#deps.logger.error({ err: error, taskId: id }, 'task step failed unexpectedly; retrying');
        if (this.#running) this.#entries.set(id, { dueAt: Date.now() + 5_000, plannedPoll: false });
      })
      .finally(() => {
        this.#releaseSlot(id, false);
        this.#inFlight.delete(id);
        this.#steps.delete(step);
        this.#updateGauges();
        this.#poke();
      });
    this.#steps.add(step);
  }

  /** The step's upstream call has settled (`used`), or it made none: its budget slot is free again. */
  #releaseSlot(id: string, used = true): void {
    this.#slots.get(id)?.release(used);
    this.#slots.delete(id);
  }

  /**
   * A waiting task with `deadlineSeconds` fails the moment the deadline passes, not when its turn
   * comes: the step (no budget needed) finds it expired and fails it with DEADLINE_EXCEEDED.
   */
  #armDeadline(id: string, startBy: number): void {
    clearTimeout(this.#deadlines.get(id));
    const timer = setTimeout(
      () => {
        this.#deadlines.delete(id);
        const entry = this.#entries.get(id);
        if (!entry || !this.#running || this.#inFlight.has(id) || !this.#waiting.has(id)) return;
        this.#dispatch(id, entry);
      },
      Math.max(0, startBy - Date.now()) + 5,
    );
    timer.unref();
    this.#deadlines.set(id, timer);
  }

  #forget(id: string): void {
    this.#drop(id);
    this.#unwait(id);
    this.#ownership.release(id).catch(() => {
      // A lease not released lapses by itself.
    });
  }

  /** Forgets a task locally, leaving the shared queue and its lease to whoever owns it now. */
  #drop(id: string): void {
    clearTimeout(this.#deadlines.get(id));
    this.#deadlines.delete(id);
    this.#entries.delete(id);
    this.#waiting.delete(id);
    this.#failures.delete(id);
    this.#notFound.delete(id);
  }

  /** The task is no longer waiting for submission; true if it was waiting here. */
  #unwait(id: string): boolean {
    this.#queue.remove(id);
    return this.#waiting.delete(id);
  }

  /** One step of one task; returns when to come back, or null when the task needs nothing more. */
  async #step(id: string): Promise<Entry | null> {
    const task = await this.#deps.ledger.store.get(id);
    if (!task || isTerminal(task.state)) return null;
    const now = Date.now();
    if (task.submitInFlight) {
      await this.#fail(task, {
        code: 'UPSTREAM_OUTCOME_UNKNOWN',
        message:
          'The gateway stopped while sending this task to PicWish, so it cannot tell whether PicWish started it. It was not sent again, to avoid a second charge; submit it again if you still want it.',
      });
      return null;
    }
    if (this.#expired(task, now)) {
      await this.#fail(task, this.#deadlineError(task));
      return null;
    }
    if (task.pendingImages.length > 0) return this.#fetchResults(task);
    if (!task.upstreamTaskId) return this.#submit(task);
    return this.#poll(task);
  }

  #expired(task: Task, now: number): boolean {
    if (task.pendingImages.length > 0) {
      return now > (task.completedAt ?? task.submittedAt ?? task.createdAt) + RESULT_FETCH_WINDOW_MS;
    }
    if (!task.upstreamTaskId && task.startBy !== null && now > task.startBy) return true;
    return now > task.finishBy;
  }

  #deadlineError(task: Task): TaskError {
    if (task.pendingImages.length > 0) {
      return {
        code: 'RESULT_UNAVAILABLE',
        message: 'PicWish finished, but its results could not be downloaded before its links expired.',
      };
    }
    if (!task.upstreamTaskId && task.startBy !== null && Date.now() > task.startBy) {
      return {
        code: 'DEADLINE_EXCEEDED',
        message:
          'The task was not started before its deadlineSeconds ran out, so it was never sent to PicWish.',
      };
    }
    if (!task.upstreamTaskId) {
      return {
        code: 'UPSTREAM_UNAVAILABLE',
        message:
          'PicWish could not be reached before the task’s deadline. Nothing was charged; try again later.',
      };
    }
    return {
      code: 'DEADLINE_EXCEEDED',
      message: 'PicWish accepted the task but did not finish it before the gateway’s deadline.',
    };
  }

  async #submit(task: Task): Promise<Entry | null> {
    const sending = await this.#deps.ledger.commit(task, {
      submitInFlight: true,
      attempts: task.attempts + 1,
    });
    if (!sending) return { dueAt: Date.now(), plannedPoll: false };
    if (sending.source.kind === 'file' && sending.source.spoolPath === '') {
      await this.#fail(sending, UPLOAD_GONE);
      return null;
    }
    const started = Date.now();
    let answer: Awaited<ReturnType<UpstreamClient['createTask']>>;
    try {
      answer = await this.#deps.upstream.createTask({
        image:
          sending.source.kind === 'file'
            ? { kind: 'file', path: sending.source.spoolPath }
            : { kind: 'url', url: sending.source.url },
        prompt: sending.prompt,
        sceneType: sending.sceneType,
        negativePrompt: sending.negativePrompt,
        batchSize: sending.batchSize,
      });
    } catch (error) {
      // The client answers every network outcome as a value; an upload it cannot open (removed, or a
      // DATA_DIR the cluster does not share) throws before anything is sent. Left to the generic retry,
      // the task would later fail as UPSTREAM_OUTCOME_UNKNOWN, which it is not.
      if (sending.source.kind !== 'file' || (await isReadable(sending.source.spoolPath))) throw error;
      await this.#fail(sending, UPLOAD_GONE);
      return null;
    }
    this.#releaseSlot(task.id);
    this.#observeCall('create', answer.ok ? 'ok' : answer.error.kind, started);
    if (answer.ok) {
      const now = Date.now();
      const submitted = await this.#deps.ledger.update(sending.id, (current) =>
        isTerminal(current.state)
          ? null
          : { submitInFlight: false, upstreamTaskId: answer.value.taskId, submittedAt: now },
      );
      this.#unwait(task.id);
      this.#failures.delete(task.id);
      this.#announceQueueMove();
      await this.#removeSpool(sending);
      if (!submitted || isTerminal(submitted.state)) return null;
      return this.#planPoll(submitted, now);
    }
    const fault = answer.error;
    if (fault.kind === 'transient' && fault.mayHaveCreated) {
      await this.#fail(sending, {
        code: 'UPSTREAM_OUTCOME_UNKNOWN',
        message: `PicWish did not give a clear answer to the create request (${fault.detail}); it may have started the task. It was not sent again, to avoid a second charge; submit it again if you still want it.`,
      });
      return null;
    }
    if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
      const retried = await this.#deps.ledger.update(sending.id, (current) =>
        isTerminal(current.state) ? null : { submitInFlight: false },
      );
      if (!retried || isTerminal(retried.state)) return null;
      const delay = this.#retryAfter(task.id, fault);
      // A 429 pauses the whole budget, so the task can keep its place in the arrival order.
      if (fault.kind === 'rate_limited') return { dueAt: task.createdAt, plannedPoll: false };
      return { dueAt: Date.now() + delay, plannedPoll: false };
    }
    await this.#fail(sending, submitFailure(fault));
    return null;
  }

  async #poll(task: Task): Promise<Entry | null> {
    const started = Date.now();
    const answer = await this.#deps.upstream.getTask(task.upstreamTaskId as string);
    this.#releaseSlot(task.id);
    this.#observeCall('poll', answer.ok ? 'ok' : answer.error.kind, started);
    if (!answer.ok) {
      const fault = answer.error;
      if (fault.kind === 'not_found') {
        const seen = (this.#notFound.get(task.id) ?? 0) + 1;
        this.#notFound.set(task.id, seen);
        if (seen >= NOT_FOUND_TOLERANCE) {
          await this.#fail(task, {
            code: 'UPSTREAM_TASK_LOST',
            message: 'PicWish no longer knows this task (it answered 404 repeatedly).',
          });
          return null;
        }
        return { dueAt: Date.now() + retryDelay(seen), plannedPoll: false };
      }
      if (fault.kind === 'transient' || fault.kind === 'rate_limited') {
        return { dueAt: Date.now() + this.#retryAfter(task.id, fault), plannedPoll: false };
      }
      await this.#fail(task, submitFailure(fault));
      return null;
    }
    this.#failures.delete(task.id);
    this.#notFound.delete(task.id);
    return this.#record(task, answer.value);
  }

  async #record(task: Task, status: UpstreamTaskStatus): Promise<Entry | null> {
    const mapped = stateForUpstreamState(status.state);
    const times = {
      processedAt: status.processedAt ?? task.processedAt,
      timeElapsedMs: status.timeElapsedMs ?? task.timeElapsedMs,
    };
    if (mapped === 'FAILED') {
      await this.#fail(task, failureForUpstreamState(status.state, status.stateDetail), {
        upstreamState: status.state,
        stateDetail: status.stateDetail,
        completedAt: status.completedAt ?? Date.now(),
        ...times,
      });
      return null;
    }
    if (mapped === 'SUCCEEDED') {
      if (status.images.length === 0) {
        await this.#fail(task, {
          code: 'RESULT_UNAVAILABLE',
          message: 'PicWish reported success but returned no images.',
        });
        return null;
      }
      const completedAt = status.completedAt ?? Date.now();
      // PicWish reports whole seconds: on average the task ended half a second later.
      const ended = completedAt % 1000 === 0 ? completedAt + 500 : completedAt;
      if (task.submittedAt) {
        this.#durations.observe(ended - task.submittedAt);
        this.#reaimPolls();
      }
      // Still PROCESSING: clients hear SUCCEEDED only once every image is stored and servable.
      const fetching = await this.#deps.ledger.update(task.id, (current) =>
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
      return this.#fetchResults(fetching);
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
      const updated = await this.#deps.ledger.update(task.id, (current) =>
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
    return this.#planPoll(task, Date.now());
  }

  /** The next poll of a submitted task, as the poll policy plans it. */
  #planPoll(task: Task, now: number): Entry {
    const submittedAt = task.submittedAt ?? task.createdAt;
    const plan = planNextPoll(
      now - submittedAt,
      this.#durations.expectedMs,
      this.#deps.events.watcherCount(task.id) > 0 || this.#remoteWatched.has(task.id),
    );
    return { dueAt: now + plan.dueInMs, earlyAt: now + plan.earlyInMs, plannedPoll: true, submittedAt };
  }

  /**
   * The expected duration was just learned anew: polls aimed at a later end than now expected
   * (the first tasks are planned with the 10 s starting guess) are brought forward; none is put off.
   */
  #reaimPolls(): void {
    const expected = this.#durations.expectedMs;
    for (const entry of this.#entries.values()) {
      if (entry.submittedAt === undefined) continue;
      const aimed = Math.max(entry.submittedAt + expected, entry.earlyAt ?? 0);
      if (aimed < entry.dueAt) entry.dueAt = aimed;
    }
  }

  /**
   * Downloads and stores every result before anyone hears SUCCEEDED. A failed download (a blip,
   * or even a 404 from a link that should live for an hour) is retried with backoff until the
   * link's hour is nearly over (`RESULT_FETCH_WINDOW_MS`, checked by `#expired`), then the task
   * fails with RESULT_UNAVAILABLE. Only a result that is not an image fails at once. Results of a
   * task cancelled or deleted meanwhile are thrown away, not kept.
   */
  async #fetchResults(task: Task): Promise<Entry | null> {
    const stored: StoredImage[] = [];
    for (const pending of task.pendingImages) {
      const result = await this.#deps.fetcher.fetch(task.id, pending);
      if (!result.ok) {
        if (result.error.kind !== 'invalid') {
          this.#deps.logger.warn(
            { taskId: task.id, detail: result.error.detail },
            'result download failed; will retry',
          );
          return { dueAt: Date.now() + this.#retryAfter(task.id, null), plannedPoll: false };
        }
        await this.#fail(task, {
          code: 'RESULT_UNAVAILABLE',
          message: `A result image could not be stored: ${result.error.detail}.`,
        });
        return null;
      }
      stored.push(result.value);
    }
    const done = await this.#deps.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : { state: 'SUCCEEDED', progress: 100, images: stored, pendingImages: [], error: null },
    );
    if (done?.state === 'SUCCEEDED') {
      this.#failures.delete(task.id);
      this.#deps.metrics.tasksFinished.inc({ state: 'SUCCEEDED', code: '' });
    } else {
      // Cancelled or deleted while downloading: its late results are not kept.
      await this.#deps.fetcher.discard(task.id);
    }
    return null;
  }

  async #fail(task: Task, error: TaskError, extra: TaskPatch = {}): Promise<void> {
    const failed = await this.#deps.ledger.update(task.id, (current) =>
      isTerminal(current.state)
        ? null
        : { ...extra, state: 'FAILED', error, submitInFlight: false, pendingImages: [] },
    );
    if (failed?.state === 'FAILED' && failed.error === error) {
      this.#deps.metrics.tasksFinished.inc({ state: 'FAILED', code: error.code });
      this.#deps.logger.info({ taskId: task.id, code: error.code }, 'task failed');
    }
    if (this.#unwait(task.id)) this.#announceQueueMove();
    await this.#removeSpool(task);
  }

  /** Removes an upload once PicWish has it or the task is over; the spool holds nothing else. */
  async #removeSpool(task: Task): Promise<void> {
    if (task.source.kind === 'file' && task.source.spoolPath)
      await rm(task.source.spoolPath, { force: true });
  }

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

  /** Waiting tasks' positions just changed: every process re-sends the ones its clients watch. */
  #announceQueueMove(): void {
    this.#deps.events.announceQueueMove();
  }

  /**
   * After a queue move (here or on another instance): the waiting tasks watched on this process
   * go to their watchers again, with their new position. Moves that come in while a refresh runs
   * are folded into one more refresh.
   */
  async #refreshWatchedWaiting(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = true;
    try {
      do {
        this.#refreshAgain = false;
        const waiting = await this.#queue.waitingAmong(this.#deps.events.watchedTaskIds());
        await Promise.all(
          waiting.map(async (id) => {
            const task = await this.#deps.ledger.store.get(id);
            if (task && !isTerminal(task.state)) this.#deps.events.deliverLocally(task);
          }),
        );
      } while (this.#refreshAgain);
    } catch {
      // The store or Redis is unreachable: this refresh is skipped, the next move will tell.
    } finally {
      this.#refreshing = false;
    }
  }

  #observeCall(kind: 'create' | 'poll', outcome: string, started: number): void {
    this.#deps.metrics.upstreamCalls.inc({ kind, outcome });
    this.#deps.metrics.upstreamLatency.observe({ kind }, (Date.now() - started) / 1000);
  }

  #updateGauges(): void {
    this.#deps.metrics.queueLength.set(this.#waiting.size);
    this.#deps.metrics.runningTasks.set(this.#entries.size + this.#inFlight.size - this.#waiting.size);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

function submitFailure(fault: UpstreamFault): TaskError {
  switch (fault.kind) {
    case 'auth':
      return {
        code: 'UPSTREAM_AUTH_FAILED',
        message:
          'PicWish refused the gateway’s API key (401). The operator should check PICWISH_API_KEY and that the Generate Background service is enabled for it.',
      };
    case 'too_large':
      return { code: 'IMAGE_TOO_LARGE', message: 'PicWish refused the image as too large (413).' };
    case 'rejected':
      return {
        code: 'UPSTREAM_REJECTED',
        message: `PicWish rejected the request (${fault.status})${fault.message ? `: ${fault.message}` : '.'}`,
      };
    case 'not_found':
      return {
        code: 'UPSTREAM_REJECTED',
        message: 'PicWish answered 404 for the create endpoint; the operator should check PICWISH_BASE_URL.',
      };
    default:
      return { code: 'UPSTREAM_UNAVAILABLE', message: 'PicWish could not be reached.' };
  }
}

async function isReadable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}
