import { custom, flag, integer, refuse, text } from './define.js';
import { family } from './family.js';

/** Who may call the gateway: gateway keys (inline or from a file). Keys are never echoed. */
export const tenants = family(
  'Tenants',
  {
    GATEWAY_API_KEYS: custom({
      meaning:
        'Server keys: tenant:key pairs, comma-separated (keys of 16+ characters). Empty: single-tenant\nlocal mode. They speak for the whole tenant: keep them on your backend, never in a browser.',
      parse: (raw, name) => keyPairs(raw ?? '', name),
    }),
    GATEWAY_API_KEYS_FILE: text({
      meaning: 'A file of tenant:key pairs, one per line (instead of GATEWAY_API_KEYS).',
    }),
    ALLOW_ANONYMOUS: flag({
      meaning:
        'Allow keyless use on a non-loopback HOST (anyone reaching the port can spend the PicWish key).',
    }),
    TENANT_RATE_LIMIT_PER_MINUTE: integer({
      meaning: 'Task creates per tenant per minute (a batch counts each of its inputs).',
      default: 60,
      min: 1,
      max: 1_000_000,
    }),
    TENANT_MAX_ACTIVE_TASKS: integer({
      meaning: 'Unfinished tasks per tenant (a batch counts each of its inputs).',
      default: 20,
      min: 1,
      max: 1_000_000,
    }),
    TENANT_WEIGHTS: custom({
      meaning:
        "Fair share of each PicWish key (#25): tenant:weight pairs (0.01-1000), comma-separated; unnamed tenants weigh 1. While two tenants both wait, weights 3 and 1 send 3 of one's tasks per 1 of the other's.",
      parse: (raw, name) => tenantWeights(raw ?? '', name),
    }),
    TENANT_DAILY_CREDITS: custom({
      meaning:
        'PicWish credits a tenant may spend per UTC day (#25): tenant:credits pairs, comma-separated;\nunnamed tenants are uncapped. A task reserves its estimatedCredits when created and settles to\ncreditsCharged; past the cap generateBackground answers QUOTA_EXCEEDED and sends nothing.',
      parse: (raw, name) => tenantDailyCredits(raw ?? '', name),
    }),
  },
  (v, io) => ({
    auth: {
      /** Raw `tenant:key` pairs; hashed by the auth module, never logged. */
      apiKeys: apiKeys(v.GATEWAY_API_KEYS, v.GATEWAY_API_KEYS_FILE, io.readText),
      allowAnonymous: v.ALLOW_ANONYMOUS,
      rateLimitPerMinute: v.TENANT_RATE_LIMIT_PER_MINUTE,
      maxActiveTasks: v.TENANT_MAX_ACTIVE_TASKS,
    },
    /** `TENANT_WEIGHTS`: tenants' weights in the fair share of each PicWish key (#25); unnamed: 1. */
    tenantWeights: v.TENANT_WEIGHTS,
    /** `TENANT_DAILY_CREDITS`: tenants' daily credit caps (#25); unnamed: uncapped. */
    tenantDailyCredits: v.TENANT_DAILY_CREDITS,
  }),
);

type KeyPair = { tenant: string; key: string };

function apiKeys(inline: KeyPair[], file: string | null, readText: (path: string) => string): KeyPair[] {
  if (file === null) return inline;
  if (inline.length > 0) {
    refuse('GATEWAY_API_KEYS_FILE', 'set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE, not both');
  }
  let contents: string;
  try {
    contents = readText(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return refuse('GATEWAY_API_KEYS_FILE', `GATEWAY_API_KEYS_FILE=${file} cannot be read (${code})`);
  }
  return keyPairs(contents, 'GATEWAY_API_KEYS_FILE');
}

/** Parses `tenant:key` pairs separated by commas or new lines; `#` starts a comment line. */
function keyPairs(source: string, variable: string): KeyPair[] {
  const pairs: KeyPair[] = [];
  for (const entry of source.split(/[,\n]/)) {
    const item = entry.trim();
    if (!item || item.startsWith('#')) continue;
    const colon = item.indexOf(':');
    const tenant = colon > 0 ? item.slice(0, colon).trim() : '';
    const key = colon > 0 ? item.slice(colon + 1).trim() : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(tenant) || key.length < 16) {
      // The entry is not echoed: it may hold a secret.
      refuse(
        variable,
        `${variable} entry ${pairs.length + 1} must be tenant:key with a tenant of letters, digits, . _ - and a key of at least 16 characters`,
      );
    }
    const earlier = pairs.findIndex((pair) => pair.key === key);
    if (earlier >= 0) {
      // One key naming two tenants would make whose tasks a caller sees depend on entry order.
      refuse(
        variable,
        `${variable} entry ${pairs.length + 1} repeats the key of entry ${earlier + 1}; every key must be distinct (a tenant may have several keys, e.g. while rotating)`,
      );
    }
    pairs.push({ tenant, key });
  }
  return pairs;
}

/**
 * `tenant:weight` pairs, a weight from 0.01 to 1000 (src/scheduler/fair-queue.ts weighs tenants
 * with them).
 */
function tenantWeights(source: string, variable: string): Record<string, number> {
  return tenantPairs(source, variable, {
    valid: (raw, value) => /^\d*\.?\d+$/.test(raw) && value >= 0.01 && value <= 1000,
    expected: 'tenant:weight with a weight from 0.01 to 1000, e.g. acme:3',
  });
}

/** `tenant:credits` pairs, a whole number of credits per UTC day. */
function tenantDailyCredits(source: string, variable: string): Record<string, number> {
  return tenantPairs(source, variable, {
    valid: (raw, value) => /^\d+$/.test(raw) && value <= 1_000_000_000,
    expected: 'tenant:credits with a whole number of credits up to 1000000000, e.g. acme:3000',
  });
}

/**
 * `tenant:number` pairs separated by commas, spaces or new lines; `#` starts a comment line. Each
 * number must pass `valid`, else the entry is refused with what was `expected`.
 */
function tenantPairs(
  source: string,
  variable: string,
  rule: { readonly valid: (raw: string, value: number) => boolean; readonly expected: string },
): Record<string, number> {
  const values: Record<string, number> = {};
  const entries = source
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const colon = entry.lastIndexOf(':');
    const tenant = colon > 0 ? entry.slice(0, colon) : '';
    const raw = entry.slice(colon + 1);
    const value = Number(raw);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(tenant) || !rule.valid(raw, value)) {
      refuse(variable, `${variable} entry ${index + 1} ("${entry}") must be ${rule.expected}`);
    }
    if (tenant in values) refuse(variable, `${variable} names tenant ${tenant} twice`);
    values[tenant] = value;
  }
  return values;
}
