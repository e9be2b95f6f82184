import type { TaskEvents } from './events.js';
import type { Task } from './model.js';
import type { TaskStore } from './store.js';
import { deliveriesFor } from './webhooks.js';

/** Fields a change may set; identity, owner and version are the ledger's. */
export type TaskPatch = Partial<Omit<Task, 'id' | 'tenantId' | 'version'>>;

/**
 * The one way a task changes after creation: compare-and-set in the store, then publish the
 * stored record. Publishing only what was stored means a watcher never sees a change that lost a
 * race, and versions arrive in order.
 *
 * A change that reaches a state the task's webhook subscription names is stored together with its
 * delivery row (core/webhooks.ts), and `onWebhookQueued` tells this process's dispatcher at once.
 */
export class TaskLedger {
  constructor(
    readonly store: TaskStore,
    readonly events: TaskEvents,
    private readonly onWebhookQueued: () => void = () => {},
  ) {}

  /**
   * Applies `patch` to `current` if nobody changed the task meanwhile. Returns the new record, or
   * null when the stored version moved on (the caller re-reads and decides again).
   */
  async commit(current: Task, patch: TaskPatch): Promise<Task | null> {
    const next: Task = { ...current, ...patch, version: current.version + 1 };
    const deliveries = deliveriesFor(current, next);
    if (!(await this.store.update(next, deliveries))) return null;
    this.events.publish(next);
    if (deliveries.length > 0) this.onWebhookQueued();
    return next;
  }

  /** Re-reads and retries `change` until it commits or declines (returns null). */
  async update(id: string, change: (task: Task) => TaskPatch | null): Promise<Task | null> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await this.store.get(id);
      if (!current) return null;
      const patch = change(current);
      if (patch === null) return current;
      const next = await this.commit(current, patch);
      if (next) return next;
    }
    throw new Error(`task ${id} kept changing under a concurrent writer`);
  }

  /** Stores a new task and announces it. */
  async create(task: Task): Promise<Task> {
    const deliveries = deliveriesFor(null, task);
    await this.store.insert(task, deliveries);
    this.events.publish(task);
    if (deliveries.length > 0) this.onWebhookQueued();
    return task;
  }
}
