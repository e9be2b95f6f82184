import type { Logger } from 'pino';
import {
  newWebhookSecret,
  type WebhookDelivery,
  type WebhookOutcome,
  type WebhookStore,
} from '../core/webhooks.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { GuardedFetcher } from '../outbound/index.js';
import type { Signal } from '../shared/signal.js';
import { nextAttemptAt } from './retry-schedule.js';
import { signatureHeader } from './signature.js';

/** What the dispatcher needs; the composition root builds it (src/gateway/parts.ts). */
export interface WebhookDispatcherOptions {
  readonly store: WebhookStore;
  /** The guarded fetcher for webhook URLs: every try is checked against the address policy again. */
  readonly fetcher: Pick<GuardedFetcher, 'post'>;
  /** The task as the `BackgroundTask` type shows it (src/graphql/webhook-body.ts). */
  readonly render: (delivery: WebhookDelivery) => Promise<unknown>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Names this process on the leases it takes. */
  readonly owner: string;
  /** `WEBHOOK_TIMEOUT_MS`: one try, from connect to the last byte read. */
  readonly timeoutMs: number;
  /** `WEBHOOK_RETRY_BASE_MS` */
  readonly retryBaseMs: number;
  /** How often due rows are looked for besides the ledger's nudges. @default 1000 */
  readonly pollMs?: number;
  /** The ledger's nudges: rows this process just queued, claimed at once rather than on the next look. */
  readonly queued?: Pick<Signal, 'listen'>;
  /**
   * `WEBHOOK_IN_FLIGHT_PER_TENANT`: tries of one tenant in flight at once, on every instance
   * together; its other due rows wait while the others' go. @default 4
   */
  readonly perTenant?: number;
}

/**
 * Tries in flight at once per process. Slots are refilled as tries end, so one receiver that
 * hangs until the timeout holds one slot, not everybody's next round; and a tenant holds at most
 * `perTenant` of them, so its hanging receivers cost it alone (#27).
 */
const MAX_IN_FLIGHT = 16;
/** A lease outlives the try it covers by this much, so it never runs out mid-send. */
const LEASE_MARGIN_MS = 5_000;

/**
 * Sends webhook deliveries (issue #15): every process runs one. It takes due rows from the store
 * under a lease, signs each body the Standard Webhooks way, POSTs it through the guarded fetcher and
 * records the answer: a 2xx delivers, a 410 gives up, anything else (an error status, a refused
 * address, a timeout) is tried again later (retry-schedule.ts) until the horizon. Rows live in the
 * store, so a restart — or another instance, once the lease ran out — carries on where this left off.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #sending = new Set<Promise<void>>();
  /** Tries in flight here per tenant: one ending for a tenant at its cap may let its next row go. */
  readonly #perTenant = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #stopNudges: (() => void) | null = null;
  #claiming: Promise<void> | null = null;
  #again = false;
  /** The last claim filled every free slot: more rows may be due, so finished tries claim again. */
  #backlog = false;
  #stopped = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  /** Starts looking for due rows (at once: rows left by an earlier run may be waiting). */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs ?? 1_000);
    this.#timer.unref();
    this.#stopNudges = this.#options.queued?.listen(() => this.wake()) ?? null;
    this.wake();
  }

  /** Claims due rows for the free slots now (or right after the claim under way). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = this.#claim().finally(() => {
      this.#claiming = null;
    });
  }

  /** Stops taking rows and waits for the tries under way (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopNudges?.();
    this.#stopNudges = null;
    await this.#claiming;
    await Promise.all(this.#sending);
  }

  /** A retry due before the next tick gets its own wake-up, so short back-offs are kept. */
  #wakeAt(at: number): void {
    const delay = at - Date.now();
    if (delay >= (this.#options.pollMs ?? 1_000)) return;
    setTimeout(() => this.wake(), Math.max(0, delay)).unref();
  }

  async #claim(): Promise<void> {
    const { store, owner, timeoutMs, logger } = this.#options;
    do {
      this.#again = false;
      const room = MAX_IN_FLIGHT - this.#sending.size;
      const cap = this.#options.perTenant ?? 4;
      // Full: the next try to end wakes a claim.
      if (room <= 0) return;
      let due: WebhookDelivery[];
      try {
        due = await store.claimDue(Date.now(), room, timeoutMs + LEASE_MARGIN_MS, owner, cap);
      } catch (error) {
        // The store did not answer: the rows stay due, and the next tick tries again.
        logger.warn({ err: (error as Error).message }, 'webhook claim failed');
        return;
      }
      this.#backlog = due.length === room;
      for (const delivery of due) {
        const { tenantId } = delivery;
        this.#perTenant.set(tenantId, (this.#perTenant.get(tenantId) ?? 0) + 1);
        const sending: Promise<void> = this.#deliver(delivery).finally(() => {
          this.#sending.delete(sending);
          const before = this.#perTenant.get(tenantId) ?? 1;
          if (before <= 1) this.#perTenant.delete(tenantId);
          else this.#perTenant.set(tenantId, before - 1);
          // Refilled in batches (half the slots), not one claim per finished try; but a tenant
          // that was at its cap may have rows waiting for exactly this slot.
          if ((this.#backlog && this.#sending.size <= MAX_IN_FLIGHT / 2) || before >= cap) this.wake();
        });
        this.#sending.add(sending);
      }
    } while (this.#again && !this.#stopped);
  }

  async #deliver(delivery: WebhookDelivery): Promise<void> {
    const { store, fetcher, metrics, logger, owner, retryBaseMs } = this.#options;
    const at = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const body = JSON.stringify({
        type: `background_task.${delivery.event.toLowerCase()}`,
        timestamp: new Date(delivery.createdAt).toISOString(),
        data: await this.#options.render(delivery),
      });
      const secrets = await store.secrets(delivery.tenantId, newWebhookSecret());
      const timestamp = Math.floor(at / 1000);
      const sent = await fetcher.post(delivery.url, body, {
        'content-type': 'application/json',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(secrets, at, delivery.id, timestamp, body),
      });
      if (sent.ok) {
        statusCode = sent.value.status;
        if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
      } else {
        error = `${sent.error.reason}: ${sent.error.message}`;
      }
    } catch (thrown) {
      error = 'The delivery could not be prepared.';
      logger.error({ err: thrown, deliveryId: delivery.id }, 'webhook delivery failed to prepare');
    }
    const outcome = decide(delivery, { at, statusCode, error }, retryBaseMs);
    metrics.webhookAttempts.inc({ outcome: OUTCOME_LABELS[outcome.status] });
    try {
      if (!(await store.record(delivery.id, owner, outcome))) {
        logger.warn({ deliveryId: delivery.id }, 'webhook lease lost before the outcome was recorded');
      } else if (outcome.nextAttemptAt !== null) {
        this.#wakeAt(outcome.nextAttemptAt);
      }
    } catch (thrown) {
      // Not recorded: the lease runs out and the row is tried again (the receiver dedupes by webhook-id).
      logger.warn(
        { err: (thrown as Error).message, deliveryId: delivery.id },
        'webhook outcome not recorded',
      );
    }
  }
}

const OUTCOME_LABELS = { DELIVERED: 'delivered', PENDING: 'retry', GAVE_UP: 'gave_up' } as const;

/** A 2xx delivers; a 410 says "never again"; anything else waits for the next try, if any is left. */
function decide(
  delivery: WebhookDelivery,
  attempt: WebhookOutcome['attempt'],
  baseMs: number,
): WebhookOutcome {
  const { statusCode } = attempt;
  if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
    return { attempt, status: 'DELIVERED', nextAttemptAt: null };
  }
  if (statusCode === 410) return { attempt, status: 'GAVE_UP', nextAttemptAt: null };
  const failures = delivery.attempts.length + 1;
  const next = nextAttemptAt(delivery.createdAt, failures, attempt.at, baseMs);
  return next === null
    ? { attempt, status: 'GAVE_UP', nextAttemptAt: null }
    : { attempt, status: 'PENDING', nextAttemptAt: next };
}
