/**
 * Tasks waiting to be sent to PicWish, for `queuePosition`: this process's own ones, or the
 * cluster's (`PgWaitingQueue`). Order: arrival (`createdAt`), then id.
 */
export interface WaitingQueue {
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
