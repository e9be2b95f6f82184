import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The `tenant` label of a task whose tenant is no longer configured (tenant names cannot hold parentheses). */
export const OTHER_TENANT = '(other)';

/**
 * The gateway's Prometheus metrics, one registry per gateway instance (tests start several in one
 * process). Labels carry kinds, outcomes, configured tenant names and PicWish key ids (a hash
 * naming the key) only — never keys, secrets or URLs; a label value outside a closed list would
 * let the series grow without bound.
 */
export class GatewayMetrics {
  readonly #tenants: ReadonlySet<string>;
  readonly registry = new Registry();
  readonly upstreamCalls = new Counter({
    name: 'picwish_upstream_calls_total',
    help: 'Calls to PicWish by kind (create, poll), outcome (ok, or the fault kind) and key id.',
    labelNames: ['kind', 'outcome', 'key'] as const,
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'picwish_upstream_call_seconds',
    help: 'Latency of calls to PicWish by kind.',
    labelNames: ['kind'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by operation name and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly tasksCreated = new Counter({
    name: 'gateway_tasks_created_total',
    help: 'Tasks accepted by generateBackground.',
    registers: [this.registry],
  });
  readonly tasksFinished = new Counter({
    name: 'gateway_tasks_finished_total',
    help: 'Tasks that reached a terminal state, by state and error code.',
    labelNames: ['state', 'code'] as const,
    registers: [this.registry],
  });
  readonly creditsCharged = new Counter({
    name: 'gateway_credits_charged_total',
    help: 'PicWish credits charged here, by tenant (PICWISH_CREDITS_PER_IMAGE per image of a SUCCEEDED task, PICWISH_CUTOUT_CREDITS per cutout).',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly queueLength = new Gauge({
    name: 'gateway_queue_length',
    help: 'Tasks waiting to be submitted to PicWish, by key id.',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly runningTasks = new Gauge({
    name: 'gateway_running_tasks',
    help: 'Tasks submitted to PicWish and not yet finished, by key id.',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly budgetGranted = new Counter({
    name: 'picwish_budget_slots_total',
    help: 'Request slots taken from the PicWish QPS budget, by key id.',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly pollLag = new Histogram({
    name: 'gateway_poll_lag_seconds',
    help: 'How late a poll started against the time the poll policy asked for.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly pollsPlanned = new Counter({
    name: 'gateway_polls_planned_total',
    help: 'Polls planned by the poll policy, by key id and where the task was watched: here, elsewhere (another instance of the cluster), nobody.',
    labelNames: ['key', 'watched'] as const,
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: 'gateway_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (will be tried again), gave_up (410 or retries ran out).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  #subscriptions: () => number = () => 0;
  readonly activeSubscriptions: Gauge = new Gauge({
    name: 'gateway_active_subscriptions',
    help: 'Live backgroundTaskUpdated subscriptions on this instance.',
    registers: [this.registry],
    collect: () => this.activeSubscriptions.set(this.#subscriptions()),
  });

  /** `tenants`: the configured tenant names (GatewayKeys.tenants), each shown from 0 on. */
  constructor(tenants: readonly string[] = []) {
    collectDefaultMetrics({ register: this.registry });
    this.#tenants = new Set(tenants);
    for (const tenant of tenants) this.creditsCharged.inc({ tenant }, 0);
  }

  /** Counts `credits` charged to `tenant`; a tenant no longer configured counts as OTHER_TENANT. */
  chargeCredits(tenant: string, credits: number): void {
    this.creditsCharged.inc({ tenant: this.#tenants.has(tenant) ? tenant : OTHER_TENANT }, credits);
  }

  /** Where `gateway_active_subscriptions` reads its value at scrape time (the task events' watchers). */
  countSubscriptionsWith(source: () => number): void {
    this.#subscriptions = source;
  }
}
