import { createPubSub, type PubSubEventTarget, Repeater } from 'graphql-yoga';
import type { Task } from './model.js';

type Channels = { 'task-updated': [taskId: string, task: Task] };

/** The event target that carries updates between processes; Redis provides one for scale-out. */
export type TaskEventTarget = PubSubEventTarget<Channels>;

/**
 * Task updates fanned out to subscribers. The scheduler publishes each committed change once;
 * every watcher of that task — on this process or, with a Redis event target, on any other —
 * receives it. Watchers never cause upstream traffic, which is what keeps polls at one per task.
 */
export class TaskEvents {
  readonly #pubsub;
  readonly #watchers = new Map<string, number>();

  constructor(eventTarget?: TaskEventTarget) {
    this.#pubsub = createPubSub<Channels>(eventTarget ? { eventTarget } : {});
  }

  publish(task: Task): void {
    this.#pubsub.publish('task-updated', task.id, task);
  }

  /** Updates of one task from now on; the caller reads the current snapshot itself, after subscribing. */
  subscribe(taskId: string): Repeater<Task> {
    const source = this.#pubsub.subscribe('task-updated', taskId);
    this.#watchers.set(taskId, (this.#watchers.get(taskId) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#watchers.get(taskId) ?? 1) - 1;
      if (left <= 0) this.#watchers.delete(taskId);
      else this.#watchers.set(taskId, left);
    };
    return new Repeater<Task>(async (push, stop) => {
      stop.then(() => {
        release();
        void source.return?.();
      });
      for await (const task of source) await push(task);
      release();
      stop();
    });
  }

  /** Live subscriptions to `taskId` on this process: the scheduler polls watched tasks more eagerly. */
  watcherCount(taskId: string): number {
    return this.#watchers.get(taskId) ?? 0;
  }

  /** Live subscriptions on this process, for the metrics endpoint. */
  totalWatchers(): number {
    let total = 0;
    for (const n of this.#watchers.values()) total += n;
    return total;
  }
}
