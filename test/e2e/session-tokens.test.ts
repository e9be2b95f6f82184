import { describe, expect } from 'vitest';
import { bearer, TENANTS } from '../support/tenancy.js';
import { codeOf, LIST, MINT, mint, sessionTest, VIEWER } from './session-stack.js';

/** Session tokens: a tenant's backend mints them for one end user, and sessions may not use the server-only operations. */

const it = sessionTest();

describe('session tokens minted by the tenant’s backend', () => {
  it('speak for one end user of the tenant, and say so in viewer', async ({ stack }) => {
    const answer = await stack.gql<{
      createSessionToken: { token: string; subject: string; expiresAt: string };
    }>(MINT, { subject: 'alice', ttl: 120 }, bearer(TENANTS.alpha));
    const minted = answer.body.data?.createSessionToken;
    expect(minted?.subject).toBe('alice');
    const lifetime = Date.parse(minted?.expiresAt ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(100_000);
    expect(lifetime).toBeLessThanOrEqual(121_000);
    const viewer = await stack.gql(VIEWER, {}, bearer(minted?.token ?? ''));
    expect(viewer.body.data?.viewer).toEqual({
      name: 'alpha',
      scope: 'SESSION',
      subject: 'alice',
      limits: { perMinute: 100, maxActive: 100 },
    });
    const server = await stack.gql(VIEWER, {}, bearer(TENANTS.alpha));
    expect(server.body.data?.viewer).toMatchObject({ name: 'alpha', scope: 'SERVER', subject: null });
  });

  it('refuses a bad subject or lifetime with BAD_USER_INPUT naming each field', async ({ stack }) => {
    const answer = await stack.gql(MINT, { subject: 'bad\u0001subject', ttl: 10 }, bearer(TENANTS.alpha));
    expect(codeOf(answer.body.errors)).toBe('BAD_USER_INPUT');
    const problems = answer.body.errors?.[0]?.extensions?.problems as { reason: string; field: string }[];
    expect(problems.map((p) => [p.reason, p.field])).toEqual([
      ['INVALID_SUBJECT', 'input.subject'],
      ['INVALID_TTL', 'input.ttlSeconds'],
    ]);
    const tooLong = await stack.gql(MINT, { subject: 'x'.repeat(129), ttl: 86_401 }, bearer(TENANTS.alpha));
    expect(codeOf(tooLong.body.errors)).toBe('BAD_USER_INPUT');
  });
});

describe('server-only operations', () => {
  it('refuses them to both kinds of session with FORBIDDEN, creating and spending nothing', async ({
    stack,
    idp,
  }) => {
    const sessions = [await mint(stack, 'dave'), await idp.sign({ sub: 'erin' })];
    for (const token of sessions) {
      const secret = await stack.gql('query { viewer { webhookSecret { secret } } }', {}, bearer(token));
      expect(codeOf(secret.body.errors)).toBe('FORBIDDEN');
      expect(secret.body.errors?.[0]?.message).toMatch(/server key/);
      const rotate = await stack.gql('mutation { rotateWebhookSecret { secret } }', {}, bearer(token));
      expect(codeOf(rotate.body.errors)).toBe('FORBIDDEN');
      const minted = await stack.gql(MINT, { subject: 'mallory' }, bearer(token));
      expect(codeOf(minted.body.errors)).toBe('FORBIDDEN');
      expect(minted.body.data ?? null).toBeNull();
      const before = await stack.gql<{ backgroundTasks: { totalCount: number } }>(LIST, {}, bearer(token));
      const withWebhook = await stack.gql(
        `mutation { generateBackground(input: { image: { url: "https://example.invalid/p.png" },
           background: { prompt: "x" }, webhookUrl: "https://example.invalid/hook" }) { id } }`,
        {},
        bearer(token),
      );
      expect(codeOf(withWebhook.body.errors)).toBe('FORBIDDEN');
      const after = await stack.gql<{ backgroundTasks: { totalCount: number } }>(LIST, {}, bearer(token));
      expect(after.body.data?.backgroundTasks.totalCount).toBe(before.body.data?.backgroundTasks.totalCount);
    }
  });
});
