import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { SceneType } from '../config/scene-types.js';
import { type LocalEngine, startLocalEngine } from '../local-engine/index.js';

/** Where tasks go: PicWish, or the built-in local engine standing in for it. */
export interface UpstreamChoice {
  readonly baseUrl: string;
  readonly apiKey: string;
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
  if (config.picwish.apiKey !== null) {
    return { baseUrl: config.picwish.baseUrl, apiKey: config.picwish.apiKey, engine: null };
  }
  const engine = await startLocalEngine({ sceneTypes, durationMs: config.engine.durationMs });
  logger.warn(
    { engineUrl: engine.url },
    'No PICWISH_API_KEY: using the built-in LOCAL engine. It composes simple generated backdrops and is NOT AI; set PICWISH_API_KEY for real PicWish results.',
  );
  return { baseUrl: engine.url, apiKey: engine.apiKey, engine };
}
