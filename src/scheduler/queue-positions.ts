import type { TaskEvents } from '../core/events.js';
import { isTerminal } from '../core/model.js';
import type { TaskStore } from '../core/store.js';
import type { FairQueue } from './fair-queue.js';
import type { WaitingQueue } from './waiting-queue.js';

/** At most this many ids of a send order are published (the rest read as arriving after them). */
export const PUBLISHED_ORDER_LIMIT = 10_000;

/** How long changes of the send order gather before it is published and positions re-announced. */
export const PUBLISH_EVERY_MS = 150;

/** Where the order comes from: the scheduler's fair queue, and whether this process drives it. */
export interface SendOrderSource {
  readonly fair: FairQueue;
  /** True while this process drives the key (only the driving scheduler's order is the truth). */
  leading(): boolean;
}

/**
 * Where each task not yet sent to PicWish stands, and keeping its watchers told. A task's place is
 * its place in the order the fair queue will send charged steps now (fair-queue.ts): read from the
 * fair queue itself where this process drives the key, else from the order its driving scheduler
 * published in the `WaitingQueue` (the cluster's in PostgreSQL). Whenever it moves, every process
 * re-sends the waiting tasks its own clients watch, with their new position.
 */
export class QueuePositions {
  readonly #queue: WaitingQueue;
  readonly #events: TaskEvents;
  readonly #store: TaskStore;
  readonly #qps: number;
  readonly #source: SendOrderSource | null;
  #publishTimer: NodeJS.Timeout | null = null;
  /** The last order published from here was not empty (an emptied one is published once). */
  #publishedSome = false;
  #stopMoves: (() => void) | null = null;
  #stopOrder: (() => void) | null = null;
  /** A refresh runs, and another was asked for meanwhile. */
  #refreshing = false;
  #refreshAgain = false;

  constructor(
    queue: WaitingQueue,
    events: TaskEvents,
    store: TaskStore,
    qps: number,
    source: SendOrderSource | null = null,
  ) {
    this.#queue = queue;
    this.#events = events;
    this.#store = store;
    this.#qps = qps;
    this.#source = source;
  }

  /** Starts re-announcing positions after every move, here or on another process. */
  start(): void {
    this.#stopMoves = this.#events.onQueueMove(() => void this.#refreshWatchedWaiting());
    this.#stopOrder = this.#source?.fair.onChange(() => this.#orderChanged()) ?? null;
  }

  stop(): void {
    this.#stopMoves?.();
    this.#stopMoves = null;
    this.#stopOrder?.();
    this.#stopOrder = null;
    if (this.#publishTimer) clearTimeout(this.#publishTimer);
    this.#publishTimer = null;
  }

  /**
   * The fair queue's order changed (a task joined, left or was sent): soon, once for a burst of
   * changes, the order is published for the other instances and positions are re-announced — a
   * newcomer of a quiet flow may have gone ahead of many.
   */
  #orderChanged(): void {
    if (this.#publishTimer || !this.#stopMoves) return;
    this.#publishTimer = setTimeout(() => {
      this.#publishTimer = null;
      void this.#publish();
    }, PUBLISH_EVERY_MS);
    this.#publishTimer.unref();
  }

  /** The task waits to be sent (arrival order: `createdAt`, then id). */
  join(taskId: string, createdAt: number): void {
    this.#queue.add(taskId, createdAt);
  }

  /** The task no longer waits (sent, failed, or handed over), without telling anyone. */
  remove(taskId: string): void {
    this.#queue.remove(taskId);
  }

  /** The task left the queue: the ones behind it moved up, so every process re-announces them. */
  leave(taskId: string): void {
    this.#queue.remove(taskId);
    this.announceMove();
  }

  /** Waiting tasks' positions just changed. */
  announceMove(): void {
    this.#events.announceQueueMove();
  }

  /** 1-based place in the order charged steps will be sent; null once sent. */
  async position(taskId: string): Promise<number | null> {
    const own = this.#source?.leading() ? this.#source.fair.position(taskId) : null;
    return own ?? this.#queue.position(taskId);
  }

  /** A hint for when a waiting task will be sent: one budget slot per task ahead of it. */
  async estimatedStartAt(taskId: string, now: number = Date.now()): Promise<Date | null> {
    const position = await this.position(taskId);
    if (position === null) return null;
    return new Date(now + (position - 1) * (1000 / this.#qps));
  }

  async #publish(): Promise<void> {
    const source = this.#source;
    if (!source?.leading()) return;
    const order = source.fair.order();
    if (order.length === 0 && !this.#publishedSome) return;
    this.#publishedSome = order.length > 0;
    try {
      await this.#queue.publish(order.slice(0, PUBLISHED_ORDER_LIMIT));
    } catch {
      // The store is unreachable: the next change publishes again.
      this.#publishedSome = true;
    }
    this.announceMove();
  }

  /**
   * The waiting tasks watched on this process go to their watchers again, with their new
   * position. Moves that come in while a refresh runs are folded into one more refresh.
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
        const waiting = await this.#queue.waitingAmong(this.#events.watchedTaskIds());
        await Promise.all(
          waiting.map(async (id) => {
            const task = await this.#store.get(id);
            if (task && !isTerminal(task.state)) this.#events.deliverLocally(task);
          }),
        );
      } while (this.#refreshAgain);
    } catch {
      // The store is unreachable: this refresh is skipped, the next move will tell.
    } finally {
      this.#refreshing = false;
    }
  }
}
