import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SESSION_TOKEN_ISSUER, SessionTokens } from '../../../src/auth/session-tokens.js';

const SECRET = 'unit-session-secret-0123456789abcdefgh';

describe('SessionTokens', () => {
  const tokens = new SessionTokens(SECRET);

  it('mints an HS256 JWT for one subject of one tenant that verifies back to them', async () => {
    const { token, expiresAt } = await tokens.mint(
      { tenantId: 'alpha', subject: 'alice' },
      120,
      1_700_000_000_000,
    );
    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    expect(decodeJwt(token)).toMatchObject({
      sub: 'alice',
      tnt: 'alpha',
      iss: SESSION_TOKEN_ISSUER,
      exp: 1_700_000_120,
    });
    expect(expiresAt.toISOString()).toBe(new Date(1_700_000_120_000).toISOString());
    const fresh = await tokens.mint({ tenantId: 'alpha', subject: 'alice' }, 120);
    expect(await tokens.verify(fresh.token)).toEqual({
      ok: true,
      value: { tenantId: 'alpha', subject: 'alice' },
    });
  });

  it('says TOKEN_EXPIRED only for a genuine token past its time (beyond the clock skew)', async () => {
    const old = await tokens.mint({ tenantId: 'alpha', subject: 'alice' }, 60, Date.now() - 120_000);
    expect(await tokens.verify(old.token)).toEqual({ ok: false, error: 'TOKEN_EXPIRED' });
    const forged = await new SessionTokens('another-secret-0123456789abcdefghijk').mint(
      { tenantId: 'alpha', subject: 'alice' },
      60,
      Date.now() - 120_000,
    );
    expect(await tokens.verify(forged.token)).toEqual({ ok: false, error: 'TOKEN_INVALID' });
  });

  it('refuses another algorithm, issuer or audience, and a token without tenant or subject', async () => {
    const key = new TextEncoder().encode(SECRET);
    const base = () =>
      new SignJWT({ tnt: 'alpha' })
        .setIssuer(SESSION_TOKEN_ISSUER)
        .setAudience(SESSION_TOKEN_ISSUER)
        .setSubject('alice')
        .setExpirationTime('5m');
    const cases = [
      await base().setProtectedHeader({ alg: 'HS512' }).sign(key),
      await base().setProtectedHeader({ alg: 'HS256' }).setIssuer('someone-else').sign(key),
      await base().setProtectedHeader({ alg: 'HS256' }).setAudience('someone-else').sign(key),
      await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(SESSION_TOKEN_ISSUER)
        .setAudience(SESSION_TOKEN_ISSUER)
        .setSubject('alice')
        .setExpirationTime('5m')
        .sign(key),
      await base().setProtectedHeader({ alg: 'HS256' }).setSubject('bad\u0001').sign(key),
      'not-a-token',
    ];
    for (const token of cases)
      expect(await tokens.verify(token)).toEqual({ ok: false, error: 'TOKEN_INVALID' });
  });
});
