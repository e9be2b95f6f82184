import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/**
 * A tenant's identity provider on loopback, as Auth0 or Clerk would be: it serves a JWKS at
 * `/.well-known/jwks.json` and signs RS256 JWTs with its key. `requests` counts JWKS fetches, so
 * a test can see the gateway's cache and its refetch on an unknown `kid`.
 */
export interface TestIdentityProvider {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** JWKS fetches so far. */
  readonly requests: number;
  /** A JWT signed by the provider's key, with `claims` over sensible defaults (sub, iss, aud, exp). */
  sign(claims?: JWTPayload, options?: { kid?: string; expiresIn?: string | number }): Promise<string>;
  /** A JWT signed by a key the JWKS does not hold (an unknown `kid`). */
  signWithUnknownKey(claims?: JWTPayload): Promise<string>;
  /** Writes the `JWT_ISSUERS_FILE` naming this provider for `tenant` into `dir`; returns its path. */
  issuersFile(dir: string, tenant: string): string;
  close(): Promise<void>;
}

export async function startIdentityProvider(
  audience = 'picwish-gateway-tests',
): Promise<TestIdentityProvider> {
  const kid = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}/`;
  const jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  const build = (claims: JWTPayload, expiresIn: string | number) =>
    new SignJWT({ sub: 'user-1', ...claims })
      .setIssuedAt()
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
      .setAudience(claims.aud ?? audience)
      .setExpirationTime(expiresIn);
  return {
    issuer,
    audience,
    jwksUrl,
    get requests() {
      return requests;
    },
    sign: (claims = {}, options = {}) =>
      build(claims, options.expiresIn ?? '10m')
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? kid })
        .sign(privateKey),
    signWithUnknownKey: (claims = {}) =>
      build(claims, '10m')
        .setProtectedHeader({ alg: 'RS256', kid: 'not-in-the-jwks' })
        .sign(stranger.privateKey),
    issuersFile(dir, tenant) {
      const file = join(dir, `issuers-${tenant}.json`);
      writeFileSync(file, JSON.stringify([{ tenant, issuer, audience, jwksUrl }]));
      return file;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
