import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { SceneType } from '../config/scene-types.js';
import { type LocalEngine, startLocalEngine } from '../local-engine/index.js';
import { picwishKeyId } from '../upstream/key-id.js';

/** One key of the pool: the key itself (for the X-API-KEY header only) and the id naming it. */
export interface UpstreamKey {
  readonly id: string;
  readonly apiKey: string;
}

/** Where tasks go: PicWish, or the built-in local engine standing in for it. */
export interface UpstreamChoice {
  readonly baseUrl: string;
  /** At least one; the first also drives tasks stored without a key id (or with one no longer configured). */
  readonly keys: readonly UpstreamKey[];
  /** The local engine, when no PicWish key was configured; the gateway closes it last. */
  readonly engine: LocalEngine | null;
}

/**
 * PicWish when a key is configured; otherwise the local engine, started here, so the gateway works
 * offline out of the box — with a warning, since its backdrops are not AI results.
 */
export async function chooseUpstream(
  config: Config,
  sceneTypes: readonly SceneType[],
  logger: Logger,
): Promise<UpstreamChoice> {
  const keyed = (apiKey: string): UpstreamKey => ({ id: picwishKeyId(apiKey), apiKey });
  if (config.picwish.apiKeys.length > 0) {
    return { baseUrl: config.picwish.baseUrl, keys: config.picwish.apiKeys.map(keyed), engine: null };
  }
  const engine = await startLocalEngine({ sceneTypes, durationMs: config.engine.durationMs });
  logger.warn(
    { engineUrl: engine.url },
    'No PICWISH_API_KEY: using the built-in LOCAL engine. It composes simple generated backdrops and is NOT AI; set PICWISH_API_KEY for real PicWish results.',
  );
  return { baseUrl: engine.url, keys: [keyed(engine.apiKey)], engine };
}
