/**
 * Which gateway process drives which task. The scheduler takes a step of a task only while it
 * owns it, so however many processes share the store, each task has one poller. A single process
 * owns everything (`LocalOwnership`), and so does the elected leader of a PostgreSQL cluster.
 */
export interface TaskOwnership {
  /** True while this process may drive `taskId` (local knowledge, no round trip). */
  holds(taskId: string): boolean;
  /** Tries to take each task; answers the ids this process now holds (already held ones included). */
  claim(taskIds: readonly string[]): Promise<string[]>;
  /** Gives one task back (finished, cancelled, or no longer ours). */
  release(taskId: string): Promise<void>;
  /** Gives everything back, for a graceful shutdown: others take the tasks over at once. */
  releaseAll(): Promise<void>;
  /**
   * How often the scheduler looks for unfinished tasks nobody holds (their owner died); null: never,
   * because this process owns everything from the start.
   */
  readonly scanEveryMs: number | null;
  close(): void;
}

/** One process, one owner: every task is always ours. */
export class LocalOwnership implements TaskOwnership {
  readonly scanEveryMs = null;

  holds(): boolean {
    return true;
  }

  async claim(taskIds: readonly string[]): Promise<string[]> {
    return [...taskIds];
  }

  async release(): Promise<void> {}

  async releaseAll(): Promise<void> {}

  close(): void {}
}

/**
 * Who watches which task on *other* processes, for the poll policy's "somebody is watching" hint
 * (this process's own watchers it counts itself). Absent for a lone process.
 */
export interface WatcherProbe {
  /** The ids among `taskIds` that some process has live subscribers for. */
  watched(taskIds: readonly string[]): Promise<Set<string>>;
  /** How often the scheduler asks, for the tasks it drives. */
  readonly refreshEveryMs: number;
}

/**
 * Tasks waiting to be sent to PicWish, for `queuePosition`: this process's own ones, or the
 * cluster's (`PgWaitingQueue`). Order: arrival (`createdAt`), then id.
 */
export interface WaitingQueue {
  add(taskId: string, createdAt: number): void;
  remove(taskId: string): void;
  /** 1-based place, or null when the task is not waiting. */
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
