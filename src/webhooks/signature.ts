import { createHmac } from 'node:crypto';
import type { WebhookSecrets } from '../core/webhooks.js';

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com): `v1,` and the base64
 * HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the secret's bytes (the
 * base64 after `whsec_`). Receivers verify it with the `standardwebhooks` package or the few lines
 * of plain crypto in docs/webhooks.md.
 */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The `webhook-signature` header: signed with the current secret and, during a rotation's grace
 * period, with the previous one as well (space-separated, as the spec allows), so a receiver that
 * still holds the old secret keeps verifying until it switches.
 */
export function signatureHeader(
  secrets: WebhookSecrets,
  now: number,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  const keys = [secrets.current];
  if (secrets.previous !== null && (secrets.previousUntil ?? 0) > now) keys.push(secrets.previous);
  return keys.map((key) => sign(key, id, timestampSeconds, body)).join(' ');
}
