import { passwordOf } from '../shared/secret-scrubbing.js';
import type { Config } from './config.js';

/**
 * Every secret the configuration holds — the PicWish keys, the result-link and session-token signing secrets, the
 * gateway keys, and passwords inside PICWISH_BASE_URL and DATABASE_URL — so that text from outside
 * (PicWish's messages) can be scrubbed of all of them, not only of the key it was sent.
 */
export function configuredSecrets(config: Config): string[] {
  return [
    ...config.picwish.apiKeys,
    ...(config.files.signingSecret ? [config.files.signingSecret] : []),
    ...(config.identity.sessionTokenSecret ? [config.identity.sessionTokenSecret] : []),
    ...config.auth.apiKeys.map((entry) => entry.key),
    ...passwordOf(config.picwish.baseUrl),
    ...passwordOf(config.databaseUrl),
  ];
}
