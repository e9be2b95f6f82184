import type { Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.js';
import { GatewayKeys } from '../auth/gateway-keys.js';
import { JwtIssuers } from '../auth/jwt-issuers.js';
import { SessionTokens } from '../auth/session-tokens.js';
import type { Config } from '../config/config.js';
import { configuredSecrets } from '../config/configured-secrets.js';
import type { SceneType } from '../config/scene-types.js';
import { BatchFeeds } from '../core/batch-feeds.js';
import { BatchService } from '../core/batches.js';
import { serverCaller } from '../core/caller.js';
import { estimatedCredits } from '../core/credits.js';
import { TaskEvents } from '../core/events.js';
import { TaskLedger } from '../core/ledger.js';
import { RetentionSweeper } from '../core/retention.js';
import { TaskService } from '../core/service.js';
import type { UploadSpool } from '../core/upload-spool.js';
import { TenantWebhooks } from '../core/webhooks.js';
import type { GatewayServices } from '../graphql/schema/context.js';
import { schema } from '../graphql/schema/index.js';
import { createWebhookRenderer } from '../graphql/webhook-body.js';
import { PICWISH_PNG_LIMITS, SAMPLE_IMAGES } from '../images/index.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { GuardedFetcher, type GuardedFetcherOptions, withSampleImages } from '../outbound/index.js';
import { type BlobStore, taskIdOfBlob } from '../results/blob-store.js';
import { Renditions } from '../results/renditions.js';
import { ResultFetcher } from '../results/result-fetcher.js';
import { UrlSigner } from '../results/signer.js';
import { resolveSigningSecret } from '../results/signing-secret.js';
import type { UpstreamBudget } from '../scheduler/budget.js';
import { CreateJournal } from '../scheduler/create-journal.js';
import { KeyPool, keyOfTask } from '../scheduler/key-pool.js';
import { TaskScheduler } from '../scheduler/scheduler.js';
import { FairGate } from '../shared/fair-gate.js';
import { Signal } from '../shared/signal.js';
import { PicWishClient } from '../upstream/client.js';
import { WebhookDispatcher } from '../webhooks/dispatcher.js';
import type { SharedParts } from './shared-part-types.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** Results PicWish hands back are refused above this size. */
const MAX_RESULT_BYTES = 25 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
/** What a webhook receiver answers is read up to this much and dropped. */
const MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024;

/** The gateway's working parts, built but not started; the transports are wired onto them. */
export interface GatewayParts {
  readonly metrics: GatewayMetrics;
  readonly blobs: BlobStore;
  /** Stored results and their renditions, made on first fetch in the image work's fair share. */
  readonly renditions: Renditions;
  /** Per PicWish key: the client sending it and its budget, to close on shutdown. */
  readonly picwishKeys: readonly { readonly upstream: PicWishClient; readonly budget: UpstreamBudget }[];
  readonly fetcher: ResultFetcher;
  /** Fetches image URLs for the task service. */
  readonly imageUrls: GuardedFetcher;
  /** One scheduler per PicWish key behind one driver. */
  readonly scheduler: KeyPool;
  readonly retention: RetentionSweeper;
  /** Checks and calls webhook URLs. */
  readonly webhookUrls: GuardedFetcher;
  /** Sends the stored webhook deliveries. */
  readonly webhooks: WebhookDispatcher;
  /** Who is calling: server keys, session tokens, identity providers' JWTs (#23). */
  readonly auth: Authenticator;
  readonly signer: UrlSigner;
  /** What the resolvers see. */
  readonly services: GatewayServices;
}

/** Where the generated session-token secret is kept under DATA_DIR (unless SESSION_TOKEN_SECRET is set). */
const SESSION_SECRET_FILE = 'session-token-secret';

/**
 * Where outbound fetches (image URLs, result links) resolve names and open sockets. Only tests
 * set it: a resolver and a connector that cannot leave loopback, whatever the guard decides.
 */
export type OutboundSeams = Pick<GuardedFetcherOptions, 'resolve' | 'connector'>;

/**
 * The wiring: builds every concrete part from the configuration, the shared parts and the chosen
 * upstream, and hands each its collaborators. Nothing starts here (startGateway decides when).
 */
export function buildParts(options: {
  readonly config: Config;
  readonly logger: Logger;
  readonly sceneTypes: readonly SceneType[];
  readonly shared: SharedParts;
  readonly upstream: UpstreamChoice;
  readonly spool: UploadSpool;
  readonly blobs: BlobStore;
  /** The base of result links: PUBLIC_URL, or where the server listens. */
  readonly publicUrl: string;
  /** Names this process on the webhook leases it takes. */
  readonly instanceId: string;
  /** @default the system resolver and undici's connector */
  readonly outbound?: OutboundSeams;
}): GatewayParts {
  const { config, logger, shared } = options;
  const { blobs } = options;
  const sessions = new SessionTokens(
    resolveSigningSecret(config.identity.sessionTokenSecret, config.dataDir, SESSION_SECRET_FILE),
  );
  const auth = new Authenticator(
    new GatewayKeys(config.auth.apiKeys),
    sessions,
    new JwtIssuers(config.identity.jwtIssuers),
  );
  const metrics = new GatewayMetrics(auth.tenants);
  const events = new TaskEvents(shared.eventTarget, shared.watchPresence);
  metrics.countSubscriptionsWith(() => events.totalWatchers());
  // The dispatcher renders bodies with the services, which hold the ledger: it hears of queued rows
  // through a signal made before both.
  const webhookRowsQueued = new Signal();
  const ledger = new TaskLedger(shared.store, events, () => webhookRowsQueued.notify());
  const fetcher = new ResultFetcher(blobs, {
    timeoutMs: config.picwish.timeoutMs,
    maxBytes: MAX_RESULT_BYTES,
    allowPrivate: config.outbound.allowPrivate,
    // Result links on the upstream's own origin are its own, even on loopback (the local engine).
    trustedOrigins: [options.upstream.baseUrl],
    ...options.outbound,
  });
  const imageUrls = new GuardedFetcher({
    allowPrivate: config.outbound.allowPrivate,
    privateHint:
      'A gateway run on your own machine fetches from it and from private networks with IMAGE_URL_ALLOW_PRIVATE=true.',
    timeoutMs: config.outbound.timeoutMs,
    maxBytes: PICWISH_PNG_LIMITS.maxBytes,
    ...options.outbound,
  });
  const journal = new CreateJournal(blobs);
  const keyIds = options.upstream.keys.map((key) => key.id);
  const picwishKeys = options.upstream.keys.map((key) => {
    const perKey = shared.forKey(key.id, keyIds);
    const upstream = new PicWishClient({
      baseUrl: options.upstream.baseUrl,
      apiKey: key.apiKey,
      timeoutMs: config.picwish.timeoutMs,
      secrets: configuredSecrets(config),
    });
    const scheduler = new TaskScheduler({
      keyId: key.id,
      drives: (task) => keyOfTask(task, keyIds) === key.id,
      ledger,
      events,
      upstream,
      budget: perKey.budget,
      fetcher,
      spool: options.spool,
      journal,
      logger: logger.child({ keyId: key.id }),
      metrics,
      credits: config.picwish.credits,
      queue: perKey.queue,
      adoption: perKey.adoption,
      weights: (tenantId) => config.tenantWeights[tenantId] ?? 1,
    });
    const load = () => (perKey.load ? perKey.load() : scheduler.load());
    return { keyId: key.id, upstream, budget: perKey.budget, scheduler, load };
  });
  const scheduler = new KeyPool(picwishKeys);
  const webhookUrls = new GuardedFetcher({
    // IMAGE_URL_ALLOW_PRIVATE opens every outbound fetch; WEBHOOK_URL_ALLOW_PRIVATE webhooks alone.
    allowPrivate: config.outbound.allowPrivate || config.webhooks.allowPrivate,
    timeoutMs: config.webhooks.timeoutMs,
    connectTimeoutMs: config.webhooks.connectTimeoutMs,
    maxBytes: MAX_WEBHOOK_RESPONSE_BYTES,
    ...options.outbound,
  });
  // Decodes and rendition encodes share one gate: both are sharp on libuv's thread pool (#27).
  const imageWork = new FairGate(config.picwish.workConcurrency);
  const urlWork = new FairGate(config.picwish.urlConcurrency);
  metrics.countImageWorkIn('decode', () => imageWork);
  metrics.countImageWorkIn('fetch', () => urlWork);
  const renditions = new Renditions(blobs, {
    gate: imageWork,
    flowOf: async (originalKey) => {
      const taskId = taskIdOfBlob(originalKey);
      const task = taskId === null ? null : await shared.store.get(taskId);
      return task?.tenantId ?? '';
    },
  });
  const tasks = new TaskService(ledger, scheduler, blobs, shared.limiter, {
    gates: { decode: imageWork, fetch: urlWork },
    spool: options.spool,
    taskDeadlineMs: config.picwish.taskDeadlineMs,
    // The gateway's own samples (GraphiQL's example) are answered without the network.
    imageUrls: withSampleImages(imageUrls, SAMPLE_IMAGES, PICWISH_PNG_LIMITS.maxBytes),
    webhookUrls,
    defaultWebhookUrls: config.webhooks.tenantDefaults,
    onCreated: (task) => {
      metrics.tasksCreated.inc();
      metrics.reserveCredits(task.tenantId, estimatedCredits(task, config.picwish.credits));
    },
  });
  const batches = new BatchService(tasks, shared.batches, shared.store);
  const signer = new UrlSigner(
    resolveSigningSecret(config.files.signingSecret, config.dataDir),
    options.publicUrl,
    config.files.urlTtlSeconds,
  );
  const retention = new RetentionSweeper(
    {
      store: shared.store,
      purge: async (task) => {
        await tasks.delete(serverCaller(task.tenantId), task.id);
      },
      purgeBatches: (before) => shared.batches.deleteBatchesBefore(before),
      logger,
    },
    config.files.retentionDays * DAY_MS,
  );
  const services: GatewayServices = {
    tasks,
    batches,
    batchFeeds: new BatchFeeds(batches, events),
    scheduler,
    events,
    signer,
    sceneTypes: options.sceneTypes,
    credits: config.picwish.credits,
    webhooks: new TenantWebhooks(shared.webhooks, config.webhooks.secretGraceMs),
    sessions,
  };
  const render = createWebhookRenderer(schema, services);
  const dispatcher = new WebhookDispatcher({
    store: shared.webhooks,
    fetcher: webhookUrls,
    render: (delivery) => render(delivery.task),
    metrics,
    logger,
    owner: options.instanceId,
    timeoutMs: config.webhooks.timeoutMs,
    retryBaseMs: config.webhooks.retryBaseMs,
    perTenant: config.webhooks.inFlightPerTenant,
    queued: webhookRowsQueued,
  });
  return {
    metrics,
    blobs,
    renditions,
    picwishKeys,
    fetcher,
    imageUrls,
    scheduler,
    retention,
    webhookUrls,
    webhooks: dispatcher,
    auth,
    signer,
    services,
  };
}
