import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigProblem, type Env, integer, text } from './env-values.js';

/**
 * End-user identity (#23): the secret session tokens are signed with, the tenants' own identity
 * providers, and the limits each end user (subject) has inside its tenant's.
 */
export interface IdentityConfig {
  /** `SESSION_TOKEN_SECRET`; null: generated once under DATA_DIR (set it on every instance of a cluster). */
  readonly sessionTokenSecret: string | null;
  /** `JWT_ISSUERS_FILE`'s entries; empty when unset. */
  readonly jwtIssuers: readonly {
    readonly tenant: string;
    readonly issuer: string;
    readonly audience: string;
    readonly jwksUrl: string;
    readonly subjectClaim: string;
  }[];
  /** `SUBJECT_RATE_LIMIT_PER_MINUTE`: tasks one end user may create per minute. */
  readonly subjectRateLimitPerMinute: number;
  /** `SUBJECT_MAX_ACTIVE_TASKS`: unfinished tasks one end user may have at once. */
  readonly subjectMaxActiveTasks: number;
}

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;

/** https, or http to a loopback host (a local identity provider while developing). */
function isAllowedJwksUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback =
    host === 'localhost' ||
    (isIP(host) === 4 && host.startsWith('127.')) ||
    (isIP(host) === 6 && host === '::1');
  return url.protocol === 'http:' && loopback;
}

const ISSUERS = z
  .array(
    z.strictObject({
      tenant: z.string().regex(TENANT, 'tenant must be 1–64 letters, digits, . _ -'),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      jwksUrl: z.string().refine(isAllowedJwksUrl, 'jwksUrl must be an https URL (http only on loopback)'),
      subjectClaim: z.string().min(1).default('sub'),
    }),
  )
  .refine(
    (entries) => new Set(entries.map((e) => e.issuer)).size === entries.length,
    'each issuer may appear once',
  );

function jwtIssuers(env: Env, readText: (path: string) => string): IdentityConfig['jwtIssuers'] {
  const file = text(env, 'JWT_ISSUERS_FILE');
  if (file === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigProblem(
      'JWT_ISSUERS_FILE',
      code
        ? `JWT_ISSUERS_FILE=${file} cannot be read (${code})`
        : `JWT_ISSUERS_FILE=${file} is not JSON: it must hold an array of { tenant, issuer, audience, jwksUrl, subjectClaim? }`,
    );
  }
  const result = ISSUERS.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ConfigProblem('JWT_ISSUERS_FILE', `JWT_ISSUERS_FILE${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export function identity(env: Env, readText: (path: string) => string): IdentityConfig {
  const secret = text(env, 'SESSION_TOKEN_SECRET');
  if (secret !== null && secret.length < 32) {
    throw new ConfigProblem(
      'SESSION_TOKEN_SECRET',
      'SESSION_TOKEN_SECRET must be at least 32 characters long',
    );
  }
  return {
    sessionTokenSecret: secret,
    jwtIssuers: jwtIssuers(env, readText),
    subjectRateLimitPerMinute: integer(env, 'SUBJECT_RATE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    subjectMaxActiveTasks: integer(env, 'SUBJECT_MAX_ACTIVE_TASKS', 4, 1, 1_000_000),
  };
}
