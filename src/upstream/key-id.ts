import { createHash } from 'node:crypto';

/**
 * Names a PicWish key without revealing it: on tasks (`picwishKeyId`), in advisory locks, logs
 * and metric labels. Sixteen hex digits of its SHA-256 tell a pool's keys apart and cannot be
 * turned back into the key.
 */
export function picwishKeyId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
