import type { Task } from './model.js';

/**
 * What the core asks of whatever drives tasks upstream (the scheduler): take a new task, drop a
 * cancelled or deleted one, and say where a waiting task stands. The service and the schema know
 * this interface only, so the scheduler can change how it runs (one process, an elected leader
 * per key) without the layers above noticing.
 */
export interface TaskDriver {
  /** Starts driving a task that was just stored (or found unfinished). */
  track(task: Task): void;
  /** Stops driving a task that was cancelled or deleted. */
  untrack(taskId: string): void;
  /** 1-based place among tasks not yet sent upstream; null once sent. */
  queuePosition(taskId: string): Promise<number | null>;
  /** A hint for when a waiting task will be sent; null once sent. */
  estimatedStartAt(taskId: string): Promise<Date | null>;
}
