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
  readonly upstreamCalls = this.#counter(
    'picwish_upstream_calls_total',
    'Calls to PicWish by kind (create, poll, cutout), outcome (ok, or the fault kind) and key id.',
    ['kind', 'outcome', 'key'],
  );
  readonly upstreamLatency = this.#histogram(
    'picwish_upstream_call_seconds',
    'Latency of calls to PicWish by kind.',
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ['kind'],
  );
  readonly operations = this.#counter(
    'graphql_operations_total',
    'GraphQL operations by operation name and outcome.',
    ['operation', 'outcome'],
  );
  readonly tasksCreated = this.#counter(
    'gateway_tasks_created_total',
    'Tasks accepted by generateBackground.',
  );
  readonly tasksFinished = this.#counter(
    'gateway_tasks_finished_total',
    'Tasks that reached a terminal state, by state and error code.',
    ['state', 'code'],
  );
  readonly creditsCharged = this.#counter(
    'gateway_credits_charged_total',
    'PicWish credits charged here, by tenant (PICWISH_CREDITS_PER_IMAGE per image of a SUCCEEDED task, PICWISH_CUTOUT_CREDITS per cutout).',
    ['tenant'],
  );
  readonly creditsReserved = this.#counter(
    'gateway_credits_reserved_total',
    'PicWish credits reserved against the daily caps (#25) by tasks created here, by tenant: each task its estimatedCredits. Reserved minus charged is what failed and cancelled tasks gave back.',
    ['tenant'],
  );
  readonly queueLength = this.#gauge(
    'gateway_queue_length',
    'Tasks waiting to be submitted to PicWish, by key id.',
    ['key'],
  );
  readonly runningTasks = this.#gauge(
    'gateway_running_tasks',
    'Tasks submitted to PicWish and not yet finished, by key id.',
    ['key'],
  );
  readonly budgetGranted = this.#counter(
    'picwish_budget_slots_total',
    'Request slots taken from the PicWish QPS budget, by key id.',
    ['key'],
  );
  readonly pollLag = this.#histogram(
    'gateway_poll_lag_seconds',
    'How late a poll started against the time the poll policy asked for.',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  );
  readonly pollsPlanned = this.#counter(
    'gateway_polls_planned_total',
    'Polls planned by the poll policy, by key id and where the task was watched: here, elsewhere (another instance of the cluster), nobody.',
    ['key', 'watched'],
  );
  readonly webhookAttempts = this.#counter(
    'gateway_webhook_attempts_total',
    'Webhook delivery attempts by outcome: delivered (2xx), retry (will be tried again), gave_up (410 or retries ran out).',
    ['outcome'],
  );
  readonly chargedWaitSeconds = this.#histogram(
    'gateway_charged_step_wait_seconds',
    'How long a create or background removal waited for its slot in the fair share (#25), by tenant and lane (INTERACTIVE, BATCH).',
    [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    ['tenant', 'lane'],
  );
  /** Every scheduler's waiting charged steps, read at scrape time. */
  readonly #chargedWaiting = new Set<() => Iterable<{ readonly tenantId: string; readonly lane: string }>>();
  readonly chargedStepsWaiting: Gauge<'tenant' | 'lane'> = new Gauge({
    name: 'gateway_charged_steps_waiting',
    help: 'Creates and background removals waiting for their slot in the fair share (#25) on the schedulers this instance leads, by tenant and lane.',
    labelNames: ['tenant', 'lane'],
    registers: [this.registry],
    collect: () => {
      const counts = new Map<string, { tenant: string; lane: string; n: number }>();
      for (const source of this.#chargedWaiting) {
        for (const { tenantId, lane } of source()) {
          const tenant = this.tenantLabel(tenantId);
          const id = `${tenant}\u0000${lane}`;
          const entry = counts.get(id) ?? { tenant, lane, n: 0 };
          entry.n += 1;
          counts.set(id, entry);
        }
      }
      // Tenants and lanes that stopped waiting read 0, not their last count.
      this.chargedStepsWaiting.reset();
      for (const tenant of this.#tenants) {
        for (const lane of ['INTERACTIVE', 'BATCH']) this.chargedStepsWaiting.set({ tenant, lane }, 0);
      }
      for (const { tenant, lane, n } of counts.values()) this.chargedStepsWaiting.set({ tenant, lane }, n);
    },
  });
  /** The image work gates' figures, read at scrape time. */
  readonly #imageWork = new Map<string, () => { readonly running: number; readonly waiting: number }>();
  readonly imageWork: Gauge<'kind' | 'state'> = new Gauge({
    name: 'gateway_image_work',
    help: 'Heavy image work on this instance (#27) by kind (decode: decodes and rendition encodes; fetch: image URL fetches) and state (running, waiting for a fair turn).',
    labelNames: ['kind', 'state'],
    registers: [this.registry],
    collect: () => {
      for (const [kind, read] of this.#imageWork) {
        const { running, waiting } = read();
        this.imageWork.set({ kind, state: 'running' }, running);
        this.imageWork.set({ kind, state: 'waiting' }, waiting);
      }
    },
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
    for (const tenant of tenants) {
      this.creditsCharged.inc({ tenant }, 0);
      this.creditsReserved.inc({ tenant }, 0);
    }
  }

  /** Counts `credits` charged to `tenant`; a tenant no longer configured counts as OTHER_TENANT. */
  chargeCredits(tenant: string, credits: number): void {
    this.creditsCharged.inc({ tenant: this.tenantLabel(tenant) }, credits);
  }

  /** Counts `credits` reserved by a task of `tenant` as it was created (its estimate). */
  reserveCredits(tenant: string, credits: number): void {
    this.creditsReserved.inc({ tenant: this.tenantLabel(tenant) }, credits);
  }

  /** The `tenant` label of `tenantId`: its name if configured, else OTHER_TENANT (the series stay closed). */
  tenantLabel(tenantId: string): string {
    return this.#tenants.has(tenantId) ? tenantId : OTHER_TENANT;
  }

  /** Where `gateway_charged_steps_waiting` reads one scheduler's waiting charged steps at scrape time. */
  countChargedWaitingIn(source: () => Iterable<{ readonly tenantId: string; readonly lane: string }>): void {
    this.#chargedWaiting.add(source);
  }

  /** Where `gateway_image_work` reads one kind of image work at scrape time. */
  countImageWorkIn(
    kind: 'decode' | 'fetch',
    read: () => { readonly running: number; readonly waiting: number },
  ): void {
    this.#imageWork.set(kind, read);
  }

  /** Where `gateway_active_subscriptions` reads its value at scrape time (the task events' watchers). */
  countSubscriptionsWith(source: () => number): void {
    this.#subscriptions = source;
  }

  // Every metric is registered in this instance's registry only, with its labels closed.
  #counter<T extends string>(name: string, help: string, labelNames: readonly T[] = []): Counter<T> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  #gauge<T extends string>(name: string, help: string, labelNames: readonly T[] = []): Gauge<T> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  #histogram<T extends string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly T[] = [],
  ): Histogram<T> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}
