import type { Task } from './model.js';

/**
 * What the core asks of whatever drives tasks upstream (the scheduler): take a new task, drop a
 * cancelled or deleted one, and say where a waiting task stands. The service and the schema know
 * this interface only, so the scheduler can change how it runs (one process, an elected leader
 * per key) without the layers above noticing.
 */
export interface TaskDriver {
  /**
   * The id of the PicWish key a new task will stick to (the one with the shortest queue): the
   * service records it on the task before storing it, so every instance drives it with that key.
   */
  chooseKey(): Promise<string>;
  /** Starts driving a task that was just stored (or found unfinished). */
  track(task: Task): void;
  /** Stops driving a task that was cancelled or deleted. */
  untrack(taskId: string): void;
  /** 1-based place among the tasks of its key not yet sent upstream; null once sent. */
  queuePosition(task: QueuedTask): Promise<number | null>;
  /** A hint for when a waiting task will be sent (its key's budget); null once sent. */
  estimatedStartAt(task: QueuedTask): Promise<Date | null>;
}

/** What the driver needs of a task to say where it waits: which task, and which key's queue. */
export type QueuedTask = Pick<Task, 'id' | 'picwishKeyId'>;
