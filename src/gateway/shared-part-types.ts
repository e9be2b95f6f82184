import type { PgConnection } from '../adapters/postgres/connection.js';
import type { ElectedAdoption } from '../adapters/postgres/elected-adoption.js';
import type { BatchStore } from '../core/batches.js';
import type { TaskEventTarget, WatchPresence } from '../core/events.js';
import type { TaskStore } from '../core/store.js';
import type { TenantLimiter } from '../core/tenant-limits.js';
import type { WebhookStore } from '../core/webhooks.js';
import type { UpstreamBudget } from '../scheduler/budget.js';
import type { KeyLoad } from '../scheduler/key-pool.js';
import type { TaskAdoption } from '../scheduler/task-adoption.js';
import type { WaitingQueue } from '../scheduler/waiting-queue.js';

/**
 * What the embedded-or-cluster choice hands the rest of the gateway, apart from both choices
 * (shared-parts.ts, postgres-parts.ts) so neither imports the other for its shape.
 */

/** What one PicWish key of the pool gets: its own budget and queue, and in a cluster its own election. */
export interface KeyParts {
  readonly budget: UpstreamBudget;
  readonly queue: WaitingQueue;
  /**
   * The key's load across the cluster, for the pool's choice of the shortest queue; absent when
   * this process drives all of the key's tasks, so its scheduler's own count is the load.
   */
  load?(): Promise<KeyLoad>;
  /** Who drives the key's tasks, when not all of them from the start (the PostgreSQL election). */
  readonly adoption?: TaskAdoption;
}

/** The parts several gateway processes share through PostgreSQL, or their one-process defaults. */
export interface SharedParts {
  /** PostgreSQL cluster mode (`DATABASE_URL`). */
  readonly postgres: PostgresCluster | null;
  readonly store: TaskStore;
  /** Batches (#15), kept by the same store as the tasks. */
  readonly batches: BatchStore;
  /** Webhook deliveries and secrets, in the tasks' database (a change and its deliveries commit together). */
  readonly webhooks: WebhookStore;
  readonly eventTarget: TaskEventTarget | undefined;
  /** In a cluster, the watchers on the other instances (a leader polls tasks watched there eagerly too). */
  readonly watchPresence: WatchPresence | undefined;
  /** The parts of key `keyId` among the pool's `keyIds` (configuration order); once per key. */
  forKey(keyId: string, keyIds: readonly string[]): KeyParts;
  /** With PostgreSQL the per-minute window is the cluster's, not each process's. */
  readonly limiter: TenantLimiter;
}

/** What the PostgreSQL cluster mode adds to the shared parts: its connections, to report and close. */
export interface PostgresCluster {
  readonly connection: PgConnection;
  /** One election per PicWish key, by key id, as `forKey` made them (for /readyz). */
  readonly adoptions: ReadonlyMap<string, ElectedAdoption>;
  close(): Promise<void>;
}
