import type { ChargedUnits } from './credits.js';
import type { Task, TaskState } from './model.js';
import type { TaskUsage } from './usage.js';
import type { WebhookDelivery } from './webhooks.js';

/**
 * How long an idempotency key names its task: the service's replay window, and the one the
 * PostgreSQL store checks inserts against (one value, so the two never disagree on a key's life).
 */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A page of one tenant's tasks, newest first, for the `backgroundTasks` connection. */
export interface TaskPage {
  readonly tasks: readonly Task[];
  readonly hasNextPage: boolean;
}

/** How to ask for a page: `after` is the id of the last task of the previous page. */
export interface TaskPageQuery {
  readonly first: number;
  readonly after?: string | null;
  readonly state?: TaskState | null;
  /** Only this end user's tasks (#23); null or absent: the whole tenant's. */
  readonly subject?: string | null;
}

/**
 * Whose records a count or a look-up covers: a tenant, and within it one end user's (`subject`)
 * or, with subject null, the whole tenant's. Idempotency keys are looked up per exact owner: a
 * session's keys and the server keys' are separate spaces, so one end user can never replay (or
 * learn of) another's task by guessing its key.
 */
export interface OwnerScope {
  readonly tenantId: string;
  readonly subject: string | null;
}

/**
 * Where tasks live. The embedded SQLite store and the PostgreSQL store implement one
 * contract (test/support/store-contract.ts runs against both), so the services above never know which one runs.
 *
 * `update` is a compare-and-set on `version`: a writer that lost a race gets `false` and must
 * re-read, which is what keeps two pollers (or a poller and a cancel) from overwriting each other.
 *
 * `deliveries` are webhook rows the change calls for (core/webhooks.ts): stored in the same
 * transaction as the task, or not at all, so a crash between the two cannot lose an event.
 */
export interface TaskStore {
  insert(task: Task, deliveries?: readonly WebhookDelivery[]): Promise<void>;
  get(id: string): Promise<Task | null>;
  /** Stores `next` (and `deliveries`) if the stored version is still `next.version - 1`. */
  update(next: Task, deliveries?: readonly WebhookDelivery[]): Promise<boolean>;
  /** Removes the task and its webhook deliveries. */
  delete(id: string): Promise<boolean>;
  /** Tasks not yet in a terminal state, oldest first: the work to resume after a restart. */
  listUnfinished(): Promise<Task[]>;
  /** Just their ids, in the same order: what a cluster's takeover scan looks at every second or so. */
  listUnfinishedIds(): Promise<string[]>;
  listForTenant(tenantId: string, query: TaskPageQuery): Promise<TaskPage>;
  /** The task made by exactly this owner (subject null: a server key) with `key` since `since`. */
  findByIdempotencyKey(owner: OwnerScope, key: string, since: number): Promise<Task | null>;
  /** How many tasks the scope has (in `state`, when given): `backgroundTasks`' `totalCount`. */
  countForTenant(scope: OwnerScope, state: TaskState | null): Promise<number>;
  countActive(scope: OwnerScope): Promise<number>;
  /** What the scope's tasks created in `[from, to)` came to, counted in the store (`viewer.usage`). */
  usageForTenant(scope: OwnerScope, from: number, to: number): Promise<TaskUsage>;
  /**
   * What the scope's tasks created on credit day `day` (credits.ts `creditDay`) hold against the
   * daily caps (`heldUnits`), deleted tasks included: `insert` reserves a task's hold, `update`
   * settles it, `delete` leaves it.
   */
  creditsHeld(scope: OwnerScope, day: number): Promise<ChargedUnits>;
  /** Tasks created before `before`, for the retention sweep. */
  listCreatedBefore(before: number, limit: number): Promise<Task[]>;
  /** Answers whether the store is reachable, for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * `insert` refused a task because another one (`existingId`) was created with the same
 * idempotency key within its window — by another gateway process that raced this one. Only a
 * shared store can see that race; the caller answers as a replay of the existing task.
 */
export class IdempotencyConflictError extends Error {
  constructor(readonly existingId: string) {
    super(`idempotency key already used by task ${existingId}`);
    this.name = 'IdempotencyConflictError';
  }
}
