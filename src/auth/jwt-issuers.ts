import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { isSubject } from '../core/caller.js';
import { err, ok, type Result } from '../shared/result.js';
import { CLOCK_TOLERANCE_SECONDS, refusalOf, type TokenClaims, type TokenRefusal } from './session-tokens.js';

/** One entry of `JWT_ISSUERS_FILE`: a tenant's own identity provider (Auth0, Clerk, Cognito, …). */
export interface JwtIssuer {
  readonly tenant: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** The claim that names the end user. @default 'sub' */
  readonly subjectClaim: string;
}

/**
 * Asymmetric algorithms only: `none` and HS* are refused whatever the token's header says, so a
 * token can never be checked with a public key used as an HMAC secret (algorithm confusion).
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/**
 * How often an unknown `kid` may make the gateway fetch an issuer's JWKS again, and how long one
 * fetch may take: an attacker sending made-up `kid`s costs at most one fetch per issuer this often.
 */
export const JWKS_REFETCH_COOLDOWN_MS = 5_000;
const JWKS_TIMEOUT_MS = 5_000;

/**
 * Verifies JWTs from the tenants' own identity providers (#23) with jose: the signature against
 * the issuer's JWKS (cached, refetched on an unknown `kid` at most every few seconds), `iss`,
 * `aud`, `exp` and `nbf` with a small clock skew. The issuer is picked by the token's unverified
 * `iss` only to know which keys to check it against; nothing else of it is trusted before the check.
 */
export class JwtIssuers {
  readonly #byIssuer = new Map<string, { readonly entry: JwtIssuer; readonly keys: JWTVerifyGetKey }>();

  constructor(entries: readonly JwtIssuer[]) {
    for (const entry of entries) {
      this.#byIssuer.set(entry.issuer, {
        entry,
        keys: createRemoteJWKSet(new URL(entry.jwksUrl), {
          cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
          timeoutDuration: JWKS_TIMEOUT_MS,
        }),
      });
    }
  }

  /** The tenants these issuers speak for. */
  get tenants(): readonly string[] {
    return [...new Set([...this.#byIssuer.values()].map(({ entry }) => entry.tenant))];
  }

  /** Whether `token`'s (unverified) issuer is one of ours: then `verify` decides. */
  claims(token: string): boolean {
    return this.#issuerOf(token) !== null;
  }

  async verify(token: string): Promise<Result<TokenClaims, TokenRefusal>> {
    const issuer = this.#issuerOf(token);
    const found = issuer === null ? undefined : this.#byIssuer.get(issuer);
    if (!found) return err('TOKEN_INVALID');
    try {
      const { payload } = await jwtVerify(token, found.keys, {
        algorithms: ASYMMETRIC_ALGORITHMS,
        issuer: found.entry.issuer,
        audience: found.entry.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      });
      const subject = payload[found.entry.subjectClaim];
      if (!isSubject(subject)) return err('TOKEN_INVALID');
      return ok({ tenantId: found.entry.tenant, subject });
    } catch (error) {
      return err(refusalOf(error));
    }
  }

  #issuerOf(token: string): string | null {
    try {
      const { iss } = decodeJwt(token);
      return typeof iss === 'string' && this.#byIssuer.has(iss) ? iss : null;
    } catch {
      return null;
    }
  }
}
