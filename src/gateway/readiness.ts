import type { Config } from '../config/config.js';
import type { TaskStore } from '../core/store.js';
import type { Readiness } from '../http/server.js';
import { withoutCredentials } from '../shared/secret-scrubbing.js';
import type { BlobStoreChoice } from './blob-store-choice.js';
import type { PostgresCluster } from './shared-part-types.js';
import type { UpstreamChoice } from './upstream-choice.js';

/** How long /readyz waits for the store or the blob store before calling it unreachable. */
const STORE_PING_TIMEOUT_MS = 1_000;

/**
 * The /readyz answer of a started gateway: which store, blob store and upstream it runs on
 * and whether they answer, and not ready once it is shutting down (so load balancers stop sending
 * traffic).
 * Before the gateway has started, http/starting.ts answers instead.
 */
export function createReadiness(deps: {
  readonly config: Config;
  readonly instanceId: string;
  readonly store: TaskStore;
  readonly postgres: PostgresCluster | null;
  readonly blobStore: BlobStoreChoice;
  readonly upstream: UpstreamChoice;
  readonly draining: () => boolean;
}): () => Promise<Readiness> {
  const { config, postgres, upstream } = deps;
  const storeKind = postgres ? 'postgres' : 'sqlite';
  const upstreamCheck = upstream.engine
    ? { kind: 'local-engine', qps: config.picwish.qps, keys: upstream.keys.length }
    : {
        kind: 'picwish',
        baseUrl: withoutCredentials(upstream.baseUrl),
        qps: config.picwish.qps,
        keys: upstream.keys.length,
      };
  return async () => {
    const [storeOk, blobsOk] = await Promise.all([
      withTimeout(deps.store.ping(), STORE_PING_TIMEOUT_MS, false),
      withTimeout(deps.blobStore.ping(), STORE_PING_TIMEOUT_MS, false),
    ]);
    const draining = deps.draining();
    const checks = {
      instance: deps.instanceId,
      store: { kind: storeKind, ok: storeOk },
      ...(postgres ? { scheduler: electedScheduler(postgres) } : {}),
      blobStore: { kind: deps.blobStore.kind, ok: blobsOk },
      upstream: upstreamCheck,
      draining,
    };
    const problems: Record<string, string> = {};
    if (!storeOk) problems.store = 'unreachable';
    if (!blobsOk) problems.blobStore = 'unreachable';
    if (draining) problems.gateway = 'shutting down';
    return { ready: Object.keys(problems).length === 0, checks, problems };
  };
}

/**
 * Whether this instance leads any key (`leader`), and which keys it leads, by key id — never the
 * key itself.
 */
function electedScheduler(postgres: PostgresCluster) {
  const keys = [...postgres.adoptions].map(([keyId, adoption]) => ({ keyId, leader: adoption.leading }));
  return { elected: true, leader: keys.some((key) => key.leader), keys };
}

/** `promise`, or `fallback` if it has not settled (or failed) within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.catch(() => fallback),
      new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
