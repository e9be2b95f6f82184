/**
 * One timer per waiting task with `deadlineSeconds`, so the task fails the moment its deadline
 * passes rather than when its turn comes (a full queue could hold it far longer). What a timer
 * does when it fires is the caller's; this only keeps them, one per task, and clears them.
 */
export class DeadlineTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** Calls `fire` just after `at` (epoch ms); replaces the task's earlier timer. */
  arm(taskId: string, at: number, fire: () => void): void {
    this.cancel(taskId);
    const timer = setTimeout(
      () => {
        this.#timers.delete(taskId);
        fire();
      },
      // A few ms past the deadline, so the step finds it passed (`now > startBy`).
      Math.max(0, at - Date.now()) + 5,
    );
    timer.unref();
    this.#timers.set(taskId, timer);
  }

  cancel(taskId: string): void {
    clearTimeout(this.#timers.get(taskId));
    this.#timers.delete(taskId);
  }

  cancelAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
