import { err, ok, type Result } from '../shared/result.js';
import type { GatewayError } from './errors.js';

/**
 * Who an operation runs for (#23). A server key speaks for its whole tenant (`subject` null); a
 * session token or an identity provider's JWT speaks for one end user of one tenant (`subject`).
 * Every service call takes the caller, and every record it reads is checked with `canSee`: what a
 * caller may not see is simply not there (null, NOT_FOUND), exactly as another tenant's record.
 */
export interface Caller {
  readonly tenantId: string;
  /** The end user a session speaks for; null for a server key (and in anonymous local mode). */
  readonly subject: string | null;
}

/**
 * The caller of a request nothing authenticated: only where a route is reached without the HTTP
 * layer's auth step (tests that call the routes directly); it belongs to no tenant.
 */
export const ANONYMOUS: Caller = { tenantId: '', subject: null };

/** A server key's caller: the whole tenant. */
export function serverCaller(tenantId: string): Caller {
  return { tenantId, subject: null };
}

/** True for a session (an end user's token), false for a server key. */
export function isSession(caller: Caller): boolean {
  return caller.subject !== null;
}

/**
 * Whether `caller` may see a record made by `owner`: same tenant, and for a session the same
 * subject. A server key sees its whole tenant, sessions' records included.
 */
export function canSee(
  caller: Caller,
  owner: { readonly tenantId: string; readonly subject?: string | null },
): boolean {
  return owner.tenantId === caller.tenantId && (caller.subject === null || owner.subject === caller.subject);
}

/** The subject a store query filters on: a session's own, or the server key's optional filter. */
export function subjectFilter(caller: Caller, requested: string | null = null): string | null {
  return caller.subject ?? requested;
}

/**
 * Refuses a session the operations that act for the whole tenant (the webhook secret, minting
 * tokens, choosing where webhooks go): FORBIDDEN, naming the server scope, before anything is done.
 */
export function requireServerScope(caller: Caller, what: string): Result<void, GatewayError> {
  if (caller.subject === null) return ok(undefined);
  return err({
    kind: 'FORBIDDEN',
    message: `${what} needs a server key (the SERVER scope); a session token cannot use it. Call it from your backend with a key from GATEWAY_API_KEYS.`,
  });
}

/** A subject the gateway accepts: 1–128 printable characters (no control characters). */
export function isSubject(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= 128 &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    !/[\u0000-\u001f\u007f-\u009f]/.test(value)
  );
}

/** What signs session tokens (auth/session-tokens.ts implements it). */
export interface SessionMinter {
  mint(
    claims: { readonly tenantId: string; readonly subject: string },
    ttlSeconds: number,
  ): Promise<{ readonly token: string; readonly expiresAt: Date }>;
}

/** `createSessionToken`'s bounds on a token's life. */
export const SESSION_TTL_SECONDS = { min: 60, max: 86_400, default: 900 } as const;

/**
 * Mints a session token for one end user of the caller's tenant (#23): server scope only, the
 * subject and lifetime checked first (each problem reported, field by field).
 */
export async function mintSession(
  caller: Caller,
  input: { readonly subject: string; readonly ttlSeconds?: number | null },
  minter: SessionMinter,
): Promise<
  Result<{ readonly token: string; readonly subject: string; readonly expiresAt: Date }, GatewayError>
> {
  const allowed = requireServerScope(caller, 'createSessionToken');
  if (!allowed.ok) return allowed;
  const ttl = input.ttlSeconds ?? SESSION_TTL_SECONDS.default;
  const problems = [
    ...(isSubject(input.subject)
      ? []
      : [
          {
            reason: 'INVALID_SUBJECT' as const,
            field: ['input', 'subject'],
            message:
              'subject must be 1 to 128 printable characters (no control characters), e.g. your user id.',
          },
        ]),
    ...(Number.isInteger(ttl) && ttl >= SESSION_TTL_SECONDS.min && ttl <= SESSION_TTL_SECONDS.max
      ? []
      : [
          {
            reason: 'INVALID_TTL' as const,
            field: ['input', 'ttlSeconds'],
            message: `ttlSeconds must be between ${SESSION_TTL_SECONDS.min} and ${SESSION_TTL_SECONDS.max} (default ${SESSION_TTL_SECONDS.default}).`,
          },
        ]),
  ];
  const [first, ...rest] = problems;
  if (first) return err({ kind: 'BAD_USER_INPUT', problems: [first, ...rest] });
  const minted = await minter.mint({ tenantId: caller.tenantId, subject: input.subject }, ttl);
  return ok({ ...minted, subject: input.subject });
}

/**
 * The caller as one string, for keys of things shared or owned per caller (live stream groups,
 * cached answers, stream reservations): a subject is never empty, so `tenant\0` is a server key's.
 */
export function callerKey(caller: Caller): string {
  return `${caller.tenantId}\u0000${caller.subject ?? ''}`;
}
