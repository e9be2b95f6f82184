import { createPubSub, type PubSubEventTarget, Repeater } from 'graphql-yoga';
import type { Task } from './model.js';

type Channels = {
  'task-updated': [taskId: string, task: Task];
  'queue-moved': [at: number];
  'task-removed': [taskId: string];
};

/** The event target that carries updates between processes; PostgreSQL provides one for scale-out. */
export type TaskEventTarget = PubSubEventTarget<Channels>;

type Listener = (task: Task) => void;

/**
 * Where a task is watched, as the scheduler asks before planning a poll: watched tasks are polled
 * more eagerly (poll-policy.ts), whether their watchers sit on this process or on another instance.
 */
export type WatchedBy = 'here' | 'elsewhere' | 'nobody';

/**
 * The port to the watchers of the other instances of a cluster: a cluster leader drives tasks
 * whose subscribers may be connected to any instance, and sees only its own. PostgreSQL provides
 * one (src/adapters/postgres/pg-watch-presence.ts); one process needs none.
 */
export interface WatchPresence {
  /** This process's watchers of `taskId` went from none to some (`true`), or back to none (`false`). */
  watchedHere(taskId: string, watched: boolean): void;
  /** Whether another instance has announced a watcher of `taskId` that has not lapsed. */
  watchedElsewhere(taskId: string): boolean;
}

/**
 * Task updates fanned out to subscribers. The scheduler publishes each committed change once;
 * every watcher of that task — on this process or, with the PostgreSQL event target, on any other —
 * receives it. Watchers never cause upstream traffic, which is what keeps polls at one per task.
 *
 * However many clients watch one task, this process listens to the transport once for it and
 * fans out locally, so delivery cost does not grow with the event target's listener lists.
 */
export class TaskEvents {
  readonly #pubsub;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #feeds = new Map<string, Repeater<Task>>();
  readonly #presence: WatchPresence | undefined;

  constructor(eventTarget?: TaskEventTarget, presence?: WatchPresence) {
    this.#pubsub = createPubSub<Channels>(eventTarget ? { eventTarget } : {});
    this.#presence = presence;
  }

  publish(task: Task): void {
    this.#pubsub.publish('task-updated', task.id, task);
  }

  /** Updates of one task from now on; the caller reads the current snapshot itself, after subscribing. */
  subscribe(taskId: string): Repeater<Task> {
    return new Repeater<Task>(async (push, stop) => {
      const listener: Listener = (task) => void push(task);
      this.#attach(taskId, listener);
      await stop;
      this.#detach(taskId, listener);
    });
  }

  /**
   * A plain listener for updates of one task, without a Repeater per watcher (the SSE fast path
   * holds thousands); it counts as a watcher like a subscription does. Returns the detach function.
   */
  watch(taskId: string, listener: (task: Task) => void): () => void {
    this.#attach(taskId, listener);
    return () => this.#detach(taskId, listener);
  }

  #attach(taskId: string, listener: Listener): void {
    let listeners = this.#listeners.get(taskId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(taskId, listeners);
      const feed = this.#pubsub.subscribe('task-updated', taskId);
      this.#feeds.set(taskId, feed);
      const fanOut = listeners;
      void (async () => {
        for await (const task of feed) {
          for (const each of fanOut) {
            // One broken watcher must not end the feed for the others, nor crash the process.
            try {
              each(task);
            } catch {
              fanOut.delete(each);
            }
          }
        }
      })();
      this.#presence?.watchedHere(taskId, true);
    }
    listeners.add(listener);
  }

  #detach(taskId: string, listener: Listener): void {
    const listeners = this.#listeners.get(taskId);
    if (!listeners) return;
    listeners.delete(listener);
    if (listeners.size > 0) return;
    this.#listeners.delete(taskId);
    void this.#feeds.get(taskId)?.return();
    this.#feeds.delete(taskId);
    this.#presence?.watchedHere(taskId, false);
  }

  /**
   * Waiting tasks moved up (one was sent, failed or left the queue). Goes to every process — a
   * queue position is the cluster's, and watchers of a task may sit on any instance — and each
   * re-sends the waiting tasks its own clients watch (`onQueueMove`, `deliverLocally`).
   */
  announceQueueMove(): void {
    this.#pubsub.publish('queue-moved', Date.now());
  }

  /** Calls `listener` after every queue move, from any process; returns the detach function. */
  onQueueMove(listener: () => void): () => void {
    const feed = this.#pubsub.subscribe('queue-moved');
    void (async () => {
      for await (const _ of feed) listener();
    })();
    return () => void feed.return();
  }

  /**
   * A task was deleted. Goes to every process, so what one keeps about the task (the finished-task
   * answers of src/http/live/response-cache.ts) is dropped on every instance at once.
   */
  announceRemoved(taskId: string): void {
    this.#pubsub.publish('task-removed', taskId);
  }

  /** Calls `listener` with the id of every task deleted on any process; returns the detach function. */
  onRemoved(listener: (taskId: string) => void): () => void {
    const feed = this.#pubsub.subscribe('task-removed');
    void (async () => {
      for await (const taskId of feed) listener(taskId);
    })();
    return () => void feed.return();
  }

  /** Hands `task` to this process's watchers only: its queue position changed, its record did not. */
  deliverLocally(task: Task): void {
    for (const listener of this.#listeners.get(task.id) ?? []) listener(task);
  }

  /** Tasks somebody on this process watches. */
  watchedTaskIds(): string[] {
    return [...this.#listeners.keys()];
  }

  /** Where `taskId` is watched: the scheduler polls watched tasks more eagerly. */
  watchedBy(taskId: string): WatchedBy {
    if (this.#listeners.has(taskId)) return 'here';
    return this.#presence?.watchedElsewhere(taskId) ? 'elsewhere' : 'nobody';
  }

  /** Live subscriptions on this process, for the metrics endpoint. */
  totalWatchers(): number {
    let total = 0;
    for (const listeners of this.#listeners.values()) total += listeners.size;
    return total;
  }
}
