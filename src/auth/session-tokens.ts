import { errors, jwtVerify, SignJWT } from 'jose';
import { isSubject, type SessionMinter } from '../core/caller.js';
import { err, ok, type Result } from '../shared/result.js';

/** The `iss` and `aud` of the gateway's own tokens, which is how they are told from an identity provider's. */
export const SESSION_TOKEN_ISSUER = 'picwish-background-gateway';

/** The one algorithm the gateway's own tokens are signed and verified with. */
const ALGORITHM = 'HS256';

/** Clock skew forgiven between the instance that minted a token and the one that checks it. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** What a verified token stands for. */
export interface TokenClaims {
  readonly tenantId: string;
  readonly subject: string;
}

/** Why a token was refused: renewable (expired) or not. Nothing more, so a forger learns nothing. */
export type TokenRefusal = 'TOKEN_EXPIRED' | 'TOKEN_INVALID';

/**
 * The session tokens a tenant's backend mints for its end users (`createSessionToken`, #23):
 * stateless JWTs signed with the cluster's session secret, so any instance verifies one without a
 * lookup. Verification admits only HS256 with this secret, this issuer and audience: a token
 * signed any other way (`alg: none`, an identity provider's key) is TOKEN_INVALID here.
 */
export class SessionTokens implements SessionMinter {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  async mint(
    claims: TokenClaims,
    ttlSeconds: number,
    now = Date.now(),
  ): Promise<{ readonly token: string; readonly expiresAt: Date }> {
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const token = await new SignJWT({ tnt: claims.tenantId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(SESSION_TOKEN_ISSUER)
      .setAudience(SESSION_TOKEN_ISSUER)
      .setSubject(claims.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.#key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  async verify(token: string): Promise<Result<TokenClaims, TokenRefusal>> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: SESSION_TOKEN_ISSUER,
        audience: SESSION_TOKEN_ISSUER,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      const subject = payload.sub;
      const tenantId = payload.tnt;
      if (typeof tenantId !== 'string' || !isSubject(subject)) return err('TOKEN_INVALID');
      return ok({ tenantId, subject });
    } catch (error) {
      return err(refusalOf(error));
    }
  }
}

/** jose's verdict as one of our two reasons: only a genuine, expired token is renewable. */
export function refusalOf(error: unknown): TokenRefusal {
  return error instanceof errors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
}
