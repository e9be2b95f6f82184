/**
 * Tasks waiting to be sent to PicWish, for `queuePosition`: this process's own ones, or the
 * cluster's (`PgWaitingQueue`). Order: the send order the key's driving scheduler published
 * (fair-queue.ts); a task not in it yet (just made, on another instance) comes after it, by arrival
 * (`createdAt`), then id.
 */
export interface WaitingQueue {
  /**
   * The key's driving scheduler changed its send order: every charged step waiting, first first.
   * The cluster's queue stores it for every instance; this process's own has nothing to do, since
   * its scheduler answers from the order itself.
   */
  publish(order: readonly string[]): Promise<void>;
  add(taskId: string, createdAt: number): void;
  remove(taskId: string): void;
  /**
   * 1-based place among the waiting tasks, by arrival; null when the queue does not know the task.
   * A task that just left answers null here, while the cluster's queue (read from the tasks
   * table) still answers the place it left: callers ask only for a task they read as waiting.
   */
  position(taskId: string): Promise<number | null>;
  /** Which of `taskIds` are waiting. */
  waitingAmong(taskIds: readonly string[]): Promise<string[]>;
}

/** The waiting tasks of this process. */
export class LocalWaitingQueue implements WaitingQueue {
  readonly #waiting = new Map<string, number>();

  async publish(_order: readonly string[]): Promise<void> {
    // Positions of tasks driven here are read from the scheduler's own order.
  }

  add(taskId: string, createdAt: number): void {
    this.#waiting.set(taskId, createdAt);
  }

  remove(taskId: string): void {
    this.#waiting.delete(taskId);
  }

  async waitingAmong(taskIds: readonly string[]): Promise<string[]> {
    return taskIds.filter((id) => this.#waiting.has(id));
  }

  async position(taskId: string): Promise<number | null> {
    const mine = this.#waiting.get(taskId);
    if (mine === undefined) return null;
    let ahead = 0;
    for (const [id, createdAt] of this.#waiting) {
      if (createdAt < mine || (createdAt === mine && id < taskId)) ahead += 1;
    }
    return ahead + 1;
  }
}
