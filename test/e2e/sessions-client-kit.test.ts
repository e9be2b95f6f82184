import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import { createGatewayClient } from '../../client/index.js';
import { createSessionToken } from '../../client/server.js';
import { SESSION_TOKEN_ISSUER } from '../../src/auth/session-tokens.js';
import { fetchThatDropsTheFirstStream, noOpenStreams, pngFile } from '../support/client-kit.js';
import { transparentPng } from '../support/fixtures.js';
import { stackTest } from '../support/stack-test.js';
import { TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * The client kit on a session token (#23): a token that lives two seconds still finishes a live
 * task — when the stream drops after the token expired, the kit's reconnect is refused
 * TOKEN_EXPIRED, it asks for a new token once and follows on. The Node helper mints tokens with a
 * server key, and a session's kit sees only its own user's tasks.
 */

const SECRET = 'kit-session-secret-0123456789abcdefghij';
const METRICS_TOKEN = 'kit-metrics-token-0123456789';
const it = stackTest({
  engine: { durationMs: 4_000 },
  env: { GATEWAY_API_KEYS: TWO_TENANT_KEYS, SESSION_TOKEN_SECRET: SECRET, METRICS_TOKEN },
});

/** A session token for `subject` of tenant alpha that expires `seconds` from now (below createSessionToken's minimum). */
function shortLived(subject: string, seconds: number): Promise<string> {
  return new SignJWT({ tnt: 'alpha' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(SESSION_TOKEN_ISSUER)
    .setAudience(SESSION_TOKEN_ISSUER)
    .setSubject(subject)
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

describe('the client kit on session tokens', () => {
  it('finishes a live task whose stream reconnects after its two-second token expired', async ({ stack }) => {
    const issued: string[] = [];
    const token = async () => {
      const next = await shortLived('kit-user', 2);
      issued.push(next);
      return next;
    };
    // The first stream is cut only once its token no longer verifies, so the reconnect must renew.
    const expired = async () => {
      const first = issued[0] as string;
      for (;;) {
        const answer = await fetch(`${stack.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${first}` },
          body: JSON.stringify({ query: '{ viewer { name } }' }),
        });
        const body = (await answer.json()) as { errors?: { extensions?: { reason?: string } }[] };
        if (body.errors?.[0]?.extensions?.reason === 'TOKEN_EXPIRED') return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const client = createGatewayClient({
      url: `${stack.url}/graphql`,
      token,
      fetch: fetchThatDropsTheFirstStream(expired).fetch,
    });
    try {
      const task = await client.generate({
        image: pngFile(await transparentPng(400, 300)),
        background: { prompt: 'a quiet beach' },
      });
      expect(task.state).toBe('SUCCEEDED');
      // The first token, and at least one renewal after it expired.
      expect(issued.length).toBeGreaterThanOrEqual(2);
    } finally {
      client.dispose();
    }
    await noOpenStreams(stack.url, { authorization: `Bearer ${METRICS_TOKEN}` });
  });

  it('mints tokens for a Node backend with createSessionToken, and each user sees only their own tasks', async ({
    stack,
  }) => {
    const mint = (subject: string) =>
      createSessionToken({ url: `${stack.url}/graphql`, serverKey: TENANTS.alpha, subject, ttlSeconds: 300 });
    const ann = await mint('ann');
    expect(ann.subject).toBe('ann');
    expect(new Date(ann.expiresAt).getTime()).toBeGreaterThan(Date.now() + 250_000);
    const annClient = createGatewayClient({ url: `${stack.url}/graphql`, token: ann.token });
    const benClient = createGatewayClient({
      url: `${stack.url}/graphql`,
      token: async () => (await mint('ben')).token,
    });
    try {
      const task = await annClient.generate({
        image: pngFile(await transparentPng(400, 300)),
        background: { prompt: 'white marble' },
      });
      expect(task.state).toBe('SUCCEEDED');
      await expect(benClient.follow(task.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      annClient.dispose();
      benClient.dispose();
    }
  });
});
