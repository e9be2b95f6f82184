import type { TaskEvents } from '../core/events.js';
import { isTerminal } from '../core/model.js';
import type { TaskStore } from '../core/store.js';
import type { WaitingQueue } from './waiting-queue.js';

/**
 * Where each task not yet sent to PicWish stands, and keeping its watchers told. The order lives
 * in the `WaitingQueue` alone (this process's, or the cluster's in PostgreSQL); whenever it moves, every
 * process re-sends the waiting tasks its own clients watch, with their new position.
 */
export class QueuePositions {
  readonly #queue: WaitingQueue;
  readonly #events: TaskEvents;
  readonly #store: TaskStore;
  readonly #qps: number;
  #stopMoves: (() => void) | null = null;
  /** A refresh runs, and another was asked for meanwhile. */
  #refreshing = false;
  #refreshAgain = false;

  constructor(queue: WaitingQueue, events: TaskEvents, store: TaskStore, qps: number) {
    this.#queue = queue;
    this.#events = events;
    this.#store = store;
    this.#qps = qps;
  }

  /** Starts re-announcing positions after every move, here or on another process. */
  start(): void {
    this.#stopMoves = this.#events.onQueueMove(() => void this.#refreshWatchedWaiting());
  }

  stop(): void {
    this.#stopMoves?.();
    this.#stopMoves = null;
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

  /** 1-based place among tasks not yet sent to PicWish; null once sent. */
  position(taskId: string): Promise<number | null> {
    return this.#queue.position(taskId);
  }

  /** A hint for when a waiting task will be sent: one budget slot per task ahead of it. */
  async estimatedStartAt(taskId: string, now: number = Date.now()): Promise<Date | null> {
    const position = await this.position(taskId);
    if (position === null) return null;
    return new Date(now + (position - 1) * (1000 / this.#qps));
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
