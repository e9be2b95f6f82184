import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the generated secret is kept, relative to DATA_DIR. */
const SECRET_FILE = 'files-signing-secret';

/**
 * The HMAC secret for result links (`UrlSigner`): the configured one, or one generated once and
 * kept under DATA_DIR (in the file `name`), so links handed out before a restart still work after
 * it. The session-token secret (#23) is kept the same way, in a file of its own.
 */
export function resolveSigningSecret(configured: string | null, dataDir: string, name = SECRET_FILE): string {
  if (configured) return configured;
  const file = join(dataDir, name);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch {
    // Not there yet: generate it below.
  }
  const secret = randomBytes(32).toString('base64url');
  try {
    // Exclusive create: instances of a cluster starting together on one DATA_DIR agree on one secret.
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
}
