import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect } from 'vitest';
import { SESSION_TOKEN_ISSUER } from '../../src/auth/session-tokens.js';
import type { GraphQLErrorShape, TestStack } from '../support/harness.js';
import type { TestIdentityProvider } from '../support/identity-provider.js';
import { bearer, generate } from '../support/tenancy.js';
import { codeOf, mint, SESSION_SECRET, SUBSCRIBE, sessionTest, VIEWER } from './session-stack.js';

/** Refused tokens: a bad session or provider token gets 401 with TOKEN_EXPIRED or TOKEN_INVALID on every transport. */

const it = sessionTest();

describe('refused tokens', () => {
  const secret = new TextEncoder().encode(SESSION_SECRET);
  const own = (claims: Record<string, unknown>, expires: string | number = '5m') =>
    new SignJWT({ tnt: 'alpha', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(SESSION_TOKEN_ISSUER)
      .setAudience(SESSION_TOKEN_ISSUER)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(expires);

  async function badTokens(
    stack: TestStack,
    idp: TestIdentityProvider,
  ): Promise<Record<string, [string, 'TOKEN_EXPIRED' | 'TOKEN_INVALID']>> {
    const good = await mint(stack, 'alice');
    const [head, payload, signature] = good.split('.');
    const flipped = `${signature?.slice(0, -2)}${signature?.endsWith('AA') ? 'BB' : 'AA'}`;
    return {
      malformed: ['not.a.jwt', 'TOKEN_INVALID'],
      'forged signature': [`${head}.${payload}.${flipped}`, 'TOKEN_INVALID'],
      'signed with another secret': [
        await own({}).sign(new TextEncoder().encode('another-secret-0123456789abcdefghijkl')),
        'TOKEN_INVALID',
      ],
      'expired session token': [
        await own({}, Math.floor(Date.now() / 1000) - 60).sign(secret),
        'TOKEN_EXPIRED',
      ],
      'tenant no longer configured': [await own({ tnt: 'gamma' }).sign(secret), 'TOKEN_INVALID'],
      'session token without subject': [
        await new SignJWT({ tnt: 'alpha' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(SESSION_TOKEN_ISSUER)
          .setAudience(SESSION_TOKEN_ISSUER)
          .setExpirationTime('5m')
          .sign(secret),
        'TOKEN_INVALID',
      ],
      'alg none': [
        new UnsecuredJWT({ tnt: 'alpha', sub: 'alice' })
          .setIssuer(SESSION_TOKEN_ISSUER)
          .setAudience(SESSION_TOKEN_ISSUER)
          .setExpirationTime('5m')
          .encode(),
        'TOKEN_INVALID',
      ],
      'expired provider token': [
        await idp.sign({ sub: 'erin' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
        'TOKEN_EXPIRED',
      ],
      'wrong issuer': [await idp.sign({ iss: 'https://elsewhere.invalid/' }), 'TOKEN_INVALID'],
      'wrong audience': [await idp.sign({ aud: 'someone-else' }), 'TOKEN_INVALID'],
      'unknown kid': [await idp.signWithUnknownKey({ sub: 'erin' }), 'TOKEN_INVALID'],
      'provider token without subject': [await idp.sign({ sub: undefined }), 'TOKEN_INVALID'],
      'not yet valid': [await idp.sign({ nbf: Math.floor(Date.now() / 1000) + 3600 }), 'TOKEN_INVALID'],
      // HS256 over the provider's issuer, "signed" with its public JWKS: the algorithm-confusion attempt.
      'HS-signed as the provider': [
        await new SignJWT({ sub: 'erin' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(idp.issuer)
          .setAudience(idp.audience)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(JSON.stringify(await (await fetch(idp.jwksUrl)).json()))),
        'TOKEN_INVALID',
      ],
      'wrong server key': ['not-a-configured-key-0123456789', 'TOKEN_INVALID'],
    };
  }

  it('answers each bad token with 401 UNAUTHENTICATED and its reason on JSON, spending nothing', async ({
    stack,
    idp,
  }) => {
    const tokens = await badTokens(stack, idp);
    expect(Object.keys(tokens).length).toBeGreaterThanOrEqual(10);
    for (const [name, [token, reason]] of Object.entries(tokens)) {
      const answer = await stack.gql(VIEWER, {}, bearer(token));
      expect([name, answer.status]).toEqual([name, 401]);
      expect([name, answer.body.errors?.[0]?.extensions]).toEqual([
        name,
        expect.objectContaining({ code: 'UNAUTHENTICATED', reason }),
      ]);
      // Nothing in the answer repeats the token.
      expect(JSON.stringify(answer.body)).not.toContain(token);
      const upload = await generate(stack, token);
      expect([name, upload.status, codeOf(upload.errors)]).toEqual([name, 401, 'UNAUTHENTICATED']);
    }
    const missing = await stack.gql(VIEWER, {});
    expect(missing.status).toBe(401);
    expect(missing.body.errors?.[0]?.extensions?.reason).toBe('TOKEN_INVALID');
  });

  it('refuses them on every stream transport too', async ({ stack, idp }) => {
    const tokens = await badTokens(stack, idp);
    const body = JSON.stringify({ query: SUBSCRIBE, variables: { id: 'any' } });
    for (const [name, [token, reason]] of Object.entries(tokens)) {
      for (const path of ['/graphql', '/graphql/stream']) {
        const response = await fetch(`${stack.url}${path}`, {
          method: 'POST',
          headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...bearer(token) },
          body,
        });
        const answer = (await response.json()) as { errors?: GraphQLErrorShape[] };
        expect([name, path, response.status, answer.errors?.[0]?.extensions?.reason]).toEqual([
          name,
          path,
          401,
          reason,
        ]);
      }
      const reservation = await fetch(`${stack.url}/graphql/stream`, {
        method: 'PUT',
        headers: bearer(token),
      });
      expect([name, reservation.status]).toEqual([name, 401]);
      await reservation.text();
    }
  });

  it('fetches the provider’s keys once, and again for an unknown kid at most every few seconds', async ({
    stack,
    idp,
  }) => {
    const before = idp.requests;
    for (let i = 0; i < 3; i += 1) {
      expect((await stack.gql(VIEWER, {}, bearer(await idp.sign({ sub: `u${i}` })))).status).toBe(200);
    }
    for (let i = 0; i < 5; i += 1) {
      expect((await stack.gql(VIEWER, {}, bearer(await idp.signWithUnknownKey()))).status).toBe(401);
    }
    // At most one refetch for the burst of unknown kids (plus the first fetch if none happened yet).
    expect(idp.requests - before).toBeLessThanOrEqual(2);
  });
});
