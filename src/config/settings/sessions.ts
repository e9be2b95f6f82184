import { isIP } from 'node:net';
import { z } from 'zod';
import { integer, optionalInteger, refuse, secret, text } from './define.js';
import { family } from './family.js';

/**
 * End-user sessions (#23, docs/sessions.md): the secret the gateway's own session tokens are signed
 * with, the tenants' identity providers, and each end user's limits inside its tenant's.
 */
export const sessions = family(
  'End-user sessions (docs/sessions.md)',
  {
    SESSION_TOKEN_SECRET: secret({
      meaning:
        'Secret (32+ characters) that signs the session tokens createSessionToken mints. Empty: generated\nonce under DATA_DIR (session-token-secret). Set the same value on every instance of a cluster.',
      minLength: 32,
    }),
    JWT_ISSUERS_FILE: text({
      meaning:
        'A JSON file: [{ "tenant", "issuer", "audience", "jwksUrl", "subjectClaim" }] — the tenants\' own\nidentity providers whose JWTs are accepted as sessions (jwksUrl https, or http on loopback).',
    }),
    SUBJECT_RATE_LIMIT_PER_MINUTE: integer({
      meaning: "Tasks one end user (a session's subject) may create per minute, inside the tenant's limit.",
      default: 10,
      min: 1,
      max: 1_000_000,
    }),
    SUBJECT_MAX_ACTIVE_TASKS: integer({
      meaning: "Unfinished tasks one end user may have at once, inside the tenant's limit.",
      default: 4,
      min: 1,
      max: 1_000_000,
    }),
    SUBJECT_DAILY_CREDITS: optionalInteger({
      meaning:
        "PicWish credits one end user may spend per UTC day (#25), inside the tenant's TENANT_DAILY_CREDITS.\nA task reserves its estimatedCredits when created and settles to creditsCharged. Empty: uncapped.",
      min: 0,
      max: 1_000_000_000,
    }),
  },
  (v, io) => ({
    identity: {
      /** `SESSION_TOKEN_SECRET`; null: generated once under DATA_DIR. */
      sessionTokenSecret: v.SESSION_TOKEN_SECRET,
      /** `JWT_ISSUERS_FILE`'s entries; empty when unset. */
      jwtIssuers: v.JWT_ISSUERS_FILE === null ? [] : jwtIssuers(v.JWT_ISSUERS_FILE, io.readText),
      subjectRateLimitPerMinute: v.SUBJECT_RATE_LIMIT_PER_MINUTE,
      subjectMaxActiveTasks: v.SUBJECT_MAX_ACTIVE_TASKS,
      /** `SUBJECT_DAILY_CREDITS`; null: uncapped. */
      subjectDailyCredits: v.SUBJECT_DAILY_CREDITS,
    },
  }),
);

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
      tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'tenant must be 1–64 letters, digits, . _ -'),
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

function jwtIssuers(file: string, readText: (path: string) => string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refuse(
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
    return refuse('JWT_ISSUERS_FILE', `JWT_ISSUERS_FILE${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
