import type { SceneType } from '../../config/scene-types.js';
import type { BatchFeeds } from '../../core/batch-feeds.js';
import type { BatchService } from '../../core/batches.js';
import type { Caller, SessionMinter } from '../../core/caller.js';
import type { CreditPrices } from '../../core/credits.js';
import type { TaskEvents } from '../../core/events.js';
import type { TaskService } from '../../core/service.js';
import type { TaskDriver } from '../../core/task-driver.js';
import type { TenantWebhooks } from '../../core/webhooks.js';
import type { UrlSigner } from '../../results/signer.js';

/** The services every resolver may use; built once per gateway. */
export interface GatewayServices {
  readonly tasks: TaskService;
  readonly batches: BatchService;
  /** One live source per followed batch, for `backgroundBatchUpdated`. */
  readonly batchFeeds: BatchFeeds;
  readonly scheduler: TaskDriver;
  readonly events: TaskEvents;
  readonly signer: UrlSigner;
  readonly sceneTypes: readonly SceneType[];
  /** PicWish's prices, for `estimatedCredits` and the `creditsCharged` of tasks and usage. */
  readonly credits: CreditPrices;
  /** A task's webhook deliveries and the tenant's signing secret. */
  readonly webhooks: TenantWebhooks;
  /** Mints the session tokens a server key hands its end users (`createSessionToken`, #23). */
  readonly sessions: SessionMinter;
}

/**
 * Per-operation context. `caller` is set by the auth step before execution; resolvers pass it to
 * every service call, which is how tenants — and a tenant's end users (#23) — stay apart.
 */
export interface GatewayContext {
  readonly services: GatewayServices;
  readonly caller: Caller;
  readonly requestId: string;
  /** Aborts when the client goes away: image work it queued and that has not started is dropped (#27). */
  readonly signal?: AbortSignal;
}
