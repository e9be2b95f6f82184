import { randomBytes, randomUUID } from 'node:crypto';
import type { Task, TaskState } from './model.js';

export type { WebhookSubscription } from './model.js';

/**
 * Signed webhooks (issue #15, item 1): the core's part. A task may name a `webhookUrl` and the
 * states it wants to hear about; each time the task reaches one of them, the ledger stores one
 * delivery row together with the task's change (one transaction), so a crash can lose neither.
 * The dispatcher (src/webhooks/) sends the rows, retries and records the outcome; this file is the
 * port both sides agree on.
 */

/** The states a subscription hears about when it names none: the final ones. */
export const DEFAULT_WEBHOOK_EVENTS: readonly TaskState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** PENDING until a 2xx (DELIVERED) or until the receiver answered 410 or the retries ran out (GAVE_UP). */
export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'GAVE_UP';

/** One try: when, what the receiver answered (null when it did not), and why it failed if it did. */
export interface WebhookAttempt {
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
}

/**
 * One event of one task for one receiver. `id` is the `webhook-id` header, the same on every
 * retry; `task` is the task as it stood when it reached `event`, so a late retry still tells what
 * happened then.
 */
export interface WebhookDelivery {
  readonly id: string;
  readonly taskId: string;
  readonly tenantId: string;
  readonly event: TaskState;
  readonly url: string;
  readonly task: Task;
  readonly createdAt: number;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: readonly WebhookAttempt[];
  /** When the next try is due; null once DELIVERED or GAVE_UP. */
  readonly nextAttemptAt: number | null;
}

/** What the dispatcher writes after a try, under the lease it claimed the row with. */
export interface WebhookOutcome {
  readonly attempt: WebhookAttempt;
  readonly status: WebhookDeliveryStatus;
  readonly nextAttemptAt: number | null;
}

/**
 * A tenant's signing secrets: `current` signs every delivery; `previous`, after a rotation, signs
 * too (a second signature) until `previousUntil`, so receivers can switch without missing one.
 */
export interface WebhookSecrets {
  readonly current: string;
  readonly previous: string | null;
  readonly previousUntil: number | null;
}

/**
 * Where deliveries and secrets live: the same database as the tasks (SQLite or PostgreSQL), so a
 * delivery row is written in the transaction that changes its task (see `TaskStore.update`).
 */
export interface WebhookStore {
  /**
   * Takes up to `limit` PENDING rows due at `now` that nobody holds, leasing them to `owner` until
   * `now + leaseMs`. Instances sharing a database never get the same row while a lease runs.
   *
   * Fair across tenants (#27): a tenant never has more than `perTenant` rows under a live lease
   * (its tries in flight, on every instance), and the rows are taken round-robin by tenant, each
   * tenant's oldest due first — so a tenant whose receiver hangs holds its own slots, not the
   * others'.
   */
  claimDue(
    now: number,
    limit: number,
    leaseMs: number,
    owner: string,
    perTenant: number,
  ): Promise<WebhookDelivery[]>;
  /** Appends the attempt and sets the outcome if `owner` still holds the lease; false if not. */
  record(id: string, owner: string, outcome: WebhookOutcome): Promise<boolean>;
  /** A task's deliveries, oldest first, for `BackgroundTask.webhookDeliveries`. */
  listForTask(taskId: string): Promise<WebhookDelivery[]>;
  /** The tenant's secrets, made from `candidate` the first time they are asked for. */
  secrets(tenantId: string, candidate: string): Promise<WebhookSecrets>;
  /** Makes `next` the current secret; the old one keeps signing until `previousUntil`. */
  rotateSecret(tenantId: string, next: string, previousUntil: number): Promise<WebhookSecrets>;
}

/** A fresh secret as Standard Webhooks spells it: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The deliveries a change of `task` calls for: one when its state became one the subscription
 * names (`previous` null: the task was just created). Called by the ledger for every write.
 */
export function deliveriesFor(previous: Task | null, next: Task): WebhookDelivery[] {
  const subscription = next.webhook;
  if (!subscription || previous?.state === next.state) return [];
  if (!subscription.events.includes(next.state)) return [];
  const now = Date.now();
  return [
    {
      id: `msg_${randomUUID()}`,
      taskId: next.id,
      tenantId: next.tenantId,
      event: next.state,
      url: subscription.url,
      task: next,
      createdAt: now,
      status: 'PENDING',
      attempts: [],
      nextAttemptAt: now,
    },
  ];
}

/**
 * What the schema offers a tenant about webhooks: a task's deliveries, and its signing secret to
 * read and rotate. The task was already found to be the tenant's by the caller.
 */
export class TenantWebhooks {
  constructor(
    private readonly store: WebhookStore,
    /** `WEBHOOK_SECRET_GRACE_SECONDS` in ms. */
    private readonly graceMs: number,
  ) {}

  deliveries(taskId: string): Promise<WebhookDelivery[]> {
    return this.store.listForTask(taskId);
  }

  /** The tenant's secrets; the first read makes them. */
  secrets(tenantId: string): Promise<WebhookSecrets> {
    return this.store.secrets(tenantId, newWebhookSecret());
  }

  /** A new current secret; the old one keeps signing (as a second signature) for the grace period. */
  rotate(tenantId: string): Promise<WebhookSecrets> {
    return this.store.rotateSecret(tenantId, newWebhookSecret(), Date.now() + this.graceMs);
  }
}
