import { describe, expect, it } from 'vitest';
import { createStreamTokens, StreamReservations } from '../../../../src/http/live/stream-tokens.js';

/** graphql-sse's single-connection tokens belong to one tenant; reservations are bounded. */

describe('createStreamTokens', () => {
  const tokens = createStreamTokens();

  it('hands out a fresh, unguessable token for every reservation', () => {
    const [first, second] = [tokens.mint('alpha'), tokens.mint('alpha')];
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[0-9a-f-]{36}\.[\w-]{32}$/);
  });

  it("answers another tenant's token, a forged signature and garbage as not belonging", () => {
    const token = tokens.mint('alpha');
    expect(tokens.belongsTo(token, 'alpha')).toBe(true);
    expect(tokens.belongsTo(token, 'beta')).toBe(false);
    expect(tokens.belongsTo(`${token.split('.')[0]}.${'A'.repeat(32)}`, 'alpha')).toBe(false);
    expect(tokens.belongsTo('not-a-token', 'alpha')).toBe(false);
    expect(tokens.belongsTo(`${token}.extra`, 'alpha')).toBe(false);
  });

  it('does not accept a token signed by another process', () => {
    expect(createStreamTokens().belongsTo(tokens.mint('alpha'), 'alpha')).toBe(false);
  });
});

describe('StreamReservations', () => {
  it('caps unconnected reservations per tenant, admits one stream per token, and expires the rest', async () => {
    const expired: string[] = [];
    const policy = new StreamReservations({ reservationTtlMs: 50, reservationsPerTenant: 2 }, (token) =>
      expired.push(token),
    );
    const first = policy.reserve('alpha');
    const second = policy.reserve('alpha');
    expect(typeof first).toBe('string');
    const refused = policy.reserve('alpha');
    expect(refused).toMatchObject({ status: 429 });
    expect(JSON.stringify(refused)).toContain('STREAM_RESERVATIONS_EXHAUSTED');
    expect(typeof policy.reserve('beta')).toBe('string');
    expect(policy.claim(first as string)).toBe(true);
    expect(policy.claim(first as string)).toBe(false);
    expect(typeof policy.reserve('alpha')).toBe('string');
    await new Promise<void>((resolve) => {
      const wait = () => (expired.includes(second as string) ? resolve() : setTimeout(wait, 10));
      wait();
    });
    expect(expired).not.toContain(first);
    expect(policy.expired()).toMatchObject({ status: 410 });
  });
});
