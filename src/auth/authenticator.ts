import { decodeJwt } from 'jose';
import type { Caller } from '../core/caller.js';
import type { GatewayError } from '../core/errors.js';
import { err, ok, type Result } from '../shared/result.js';
import type { GatewayKeys } from './gateway-keys.js';
import type { JwtIssuers } from './jwt-issuers.js';
import { SESSION_TOKEN_ISSUER, type SessionTokens, type TokenRefusal } from './session-tokens.js';

/** The refusal of a request's credential, as every transport answers it (HTTP 401). */
export type AuthRefusal = Extract<GatewayError, { kind: 'UNAUTHENTICATED' }>;

const MESSAGES: Record<TokenRefusal, string> = {
  TOKEN_EXPIRED: 'The session token has expired: get a new one from your backend and send it again.',
  TOKEN_INVALID:
    'The token is not valid here. Send a session token from your backend (createSessionToken) or your identity provider, or a server key from your backend.',
};

/**
 * Who is calling (#23), from `Authorization: Bearer <credential>`:
 * - a server key (`GATEWAY_API_KEYS`) — the whole tenant;
 * - a session token this gateway minted (`createSessionToken`) — one end user of one tenant;
 * - a JWT from a tenant's identity provider (`JWT_ISSUERS_FILE`) — likewise.
 * With none of them configured, everyone is the local tenant (anonymous local mode). A token of a
 * tenant that is no longer configured is TOKEN_INVALID. Refusals say only expired or invalid.
 */
export class Authenticator {
  readonly #tenants: ReadonlySet<string>;

  constructor(
    private readonly keys: GatewayKeys,
    private readonly sessions: SessionTokens,
    private readonly issuers: JwtIssuers,
  ) {
    this.#tenants = new Set([...keys.tenants, ...issuers.tenants]);
  }

  /** True when requests must carry a credential. */
  get required(): boolean {
    return this.keys.required || this.issuers.tenants.length > 0;
  }

  /** Every tenant a request can belong to: a closed list, which lets metrics label by tenant. */
  get tenants(): readonly string[] {
    return this.required ? [...this.#tenants] : this.keys.tenants;
  }

  /** Whether a server key can mint session tokens here (there are server keys). */
  get sessionsAvailable(): boolean {
    return this.keys.required;
  }

  async authenticate(authorization: string | undefined): Promise<Result<Caller, AuthRefusal>> {
    if (!this.required) return ok({ tenantId: this.keys.tenants[0] ?? 'local', subject: null });
    const credential = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!credential) {
      return err({
        kind: 'UNAUTHENTICATED',
        reason: 'TOKEN_INVALID',
        message:
          'Send "Authorization: Bearer <token>": a session token from your backend (or your identity provider) in a browser, a server key from a backend.',
      });
    }
    const key = this.keys.authenticate(`Bearer ${credential}`);
    if (key.ok && this.keys.required) return ok({ tenantId: key.value, subject: null });
    const verified = this.#isOwnToken(credential)
      ? await this.sessions.verify(credential)
      : this.issuers.claims(credential)
        ? await this.issuers.verify(credential)
        : err('TOKEN_INVALID' as const);
    if (!verified.ok)
      return err({ kind: 'UNAUTHENTICATED', reason: verified.error, message: MESSAGES[verified.error] });
    if (!this.#tenants.has(verified.value.tenantId)) {
      return err({ kind: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID', message: MESSAGES.TOKEN_INVALID });
    }
    return ok({ tenantId: verified.value.tenantId, subject: verified.value.subject });
  }

  /** Whether the credential is shaped like a JWT this gateway issued (its signature is checked next). */
  #isOwnToken(credential: string): boolean {
    try {
      return decodeJwt(credential).iss === SESSION_TOKEN_ISSUER;
    } catch {
      return false;
    }
  }
}
