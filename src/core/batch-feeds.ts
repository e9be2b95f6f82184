import {
  type BatchCounts,
  type BatchService,
  type BatchView,
  batchCounts,
  type FilledBatch,
  isBatchDone,
} from './batches.js';
import { type Caller, canSee, serverCaller } from './caller.js';
import type { TaskEvents } from './events.js';
import type { Task } from './model.js';

/** Where a batch's updates go; `complete` comes once, after the view that is done. */
export interface BatchListener {
  next(view: BatchView): void;
  complete(): void;
}

/** One batch followed on this process, for however many listeners. */
interface Feed {
  readonly tenantId: string;
  readonly batch: FilledBatch;
  /** The newest version seen of each accepted item's task; deleted tasks are removed. */
  readonly tasks: Map<string, Task>;
  readonly listeners: Set<BatchListener>;
  readonly unwatch: (() => void)[];
  counts: BatchCounts;
  view: BatchView;
  /** False until the store was read after listening started: a partial view must not end the feed. */
  ready: boolean;
}

/**
 * The live side of batches (`backgroundBatchUpdated`): one source per batch on this process,
 * however many subscribers follow it, as TaskEvents is for one task. The feed listens to each of
 * the batch's tasks once (through TaskEvents, so in a cluster the updates come from whichever
 * instance commits them), keeps the counts, and hands every subscriber the same view whenever the
 * counts change — never on mere progress — until every accepted item is final; then it completes
 * them all and stops listening. Nothing here reads the store in a loop or calls upstream.
 */
export class BatchFeeds {
  readonly #feeds = new Map<string, Feed>();
  /** Feeds being opened: joiners of the same batch wait for the one read of the store. */
  readonly #opening = new Map<string, Promise<Feed | null>>();
  #removals: (() => void) | null = null;

  constructor(
    private readonly batches: BatchService,
    private readonly events: TaskEvents,
  ) {}

  /**
   * Follows the caller's batch: `listener.next` with the view now, then on every change of the
   * counts, then `complete` once the batch is done (at once when it already is). Resolves to the
   * function that stops following, or null when the caller has no such batch.
   */
  async follow(caller: Caller, id: string, listener: BatchListener): Promise<(() => void) | null> {
    // The feed is the tenant's (one per batch, whoever follows it); who may follow it is checked here.
    const feed = await this.#feed(caller.tenantId, id);
    if (!feed || !canSee(caller, feed.batch)) return null;
    listener.next(feed.view);
    if (isBatchDone(feed.view)) {
      listener.complete();
      this.#closeIfIdle(id, feed);
      return () => {};
    }
    feed.listeners.add(listener);
    return () => {
      feed.listeners.delete(listener);
      this.#closeIfIdle(id, feed);
    };
  }

  /** Batches followed on this process (for tests and metrics). */
  get size(): number {
    return this.#feeds.size;
  }

  async #feed(tenantId: string, id: string): Promise<Feed | null> {
    const open = this.#feeds.get(id);
    if (open) return open;
    let opening = this.#opening.get(id);
    if (!opening) {
      opening = this.#open(tenantId, id).finally(() => this.#opening.delete(id));
      this.#opening.set(id, opening);
    }
    return opening;
  }

  async #open(tenantId: string, id: string): Promise<Feed | null> {
    const view = await this.batches.get(serverCaller(tenantId), id);
    if (!view) return null;
    const feed: Feed = {
      tenantId,
      batch: view.batch,
      tasks: new Map(view.tasks.map((task) => [task.id, task])),
      listeners: new Set(),
      unwatch: [],
      counts: batchCounts(view),
      view,
      ready: false,
    };
    this.#removals ??= this.events.onRemoved((taskId) => {
      for (const each of this.#feeds.values()) {
        if (each.tasks.delete(taskId)) this.#changed(each);
      }
    });
    // Listen first, then read again: a change committed between the two arrives as an event, and
    // whichever version is newer wins.
    for (const item of view.batch.items) {
      if ('taskId' in item)
        feed.unwatch.push(this.events.watch(item.taskId, (task) => this.#onTask(feed, task)));
    }
    this.#feeds.set(id, feed);
    const current = (await this.batches.get(serverCaller(tenantId), id)) ?? view;
    for (const task of current.tasks) {
      const seen = feed.tasks.get(task.id);
      if (!seen || seen.version < task.version) feed.tasks.set(task.id, task);
    }
    this.#refresh(feed);
    feed.ready = true;
    return feed;
  }

  #onTask(feed: Feed, task: Task): void {
    const seen = feed.tasks.get(task.id);
    if (seen && seen.version >= task.version) return;
    feed.tasks.set(task.id, task);
    this.#changed(feed);
  }

  /** Recomputes the view; tells the listeners when the counts moved, and ends the feed when done. */
  #changed(feed: Feed): void {
    if (!feed.ready) return;
    const before = feed.counts;
    this.#refresh(feed);
    const done = isBatchDone(feed.view);
    if (!done && sameCounts(before, feed.counts)) return;
    for (const listener of feed.listeners) listener.next(feed.view);
    if (!done) return;
    const listeners = [...feed.listeners];
    feed.listeners.clear();
    for (const listener of listeners) listener.complete();
    this.#closeIfIdle(feed.batch.id, feed);
  }

  #refresh(feed: Feed): void {
    const tasks: Task[] = [];
    for (const item of feed.batch.items) {
      const task = 'taskId' in item ? feed.tasks.get(item.taskId) : undefined;
      if (task) tasks.push(task);
    }
    feed.view = { batch: feed.batch, tasks };
    feed.counts = batchCounts(feed.view);
  }

  #closeIfIdle(id: string, feed: Feed): void {
    if (feed.listeners.size > 0 || this.#feeds.get(id) !== feed) return;
    this.#feeds.delete(id);
    for (const unwatch of feed.unwatch) unwatch();
    if (this.#feeds.size === 0 && this.#removals) {
      this.#removals();
      this.#removals = null;
    }
  }
}

function sameCounts(a: BatchCounts, b: BatchCounts): boolean {
  return (
    a.deleted === b.deleted &&
    (Object.keys(a.byState) as (keyof BatchCounts['byState'])[]).every(
      (state) => a.byState[state] === b.byState[state],
    )
  );
}
