import { ConfigProblem, type Env, text } from './env-values.js';

/**
 * Who may call the gateway and its operator endpoints: gateway keys (inline or from a file),
 * the metrics token and the CORS allow-list. Keys are never echoed in a refusal.
 */

export function metricsToken(env: Env): string | null {
  const token = text(env, 'METRICS_TOKEN');
  if (token !== null && token.length < 16) {
    throw new ConfigProblem('METRICS_TOKEN', 'METRICS_TOKEN must be at least 16 characters long');
  }
  return token;
}

/** `CORS_ORIGINS`: comma-separated origins such as `https://app.example.com`. */
export function corsOrigins(env: Env): string[] | null {
  const raw = text(env, 'CORS_ORIGINS');
  if (raw === null) return null;
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new ConfigProblem('CORS_ORIGINS', `CORS_ORIGINS holds "${entry}", which is not an origin`);
      }
      if (url.origin === 'null' || url.origin !== entry.replace(/\/$/, '')) {
        throw new ConfigProblem(
          'CORS_ORIGINS',
          `CORS_ORIGINS holds "${entry}"; give origins only (scheme, host and port, no path)`,
        );
      }
      return url.origin;
    });
}

/**
 * `TENANT_WEBHOOK_URLS`: each tenant's default `webhookUrl`, for tasks that name none —
 * `tenant=https://…` entries separated by spaces or new lines (URLs may hold commas); `#` starts a
 * comment line. The form is checked here; the address, like any webhook URL's, when a task is made.
 */
export function tenantWebhookUrls(env: Env): Readonly<Record<string, string>> {
  const urls: Record<string, string> = {};
  const raw = text(env, 'TENANT_WEBHOOK_URLS') ?? '';
  const entries = raw
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(/\s+/))
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const equals = entry.indexOf('=');
    const tenant = equals > 0 ? entry.slice(0, equals) : '';
    let url: URL | null = null;
    try {
      url = new URL(entry.slice(equals + 1));
    } catch {
      url = null;
    }
    if (
      !/^[A-Za-z0-9._-]{1,64}$/.test(tenant) ||
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.username ||
      url.password
    ) {
      throw new ConfigProblem(
        'TENANT_WEBHOOK_URLS',
        `TENANT_WEBHOOK_URLS entry ${index + 1} must be tenant=URL with an absolute http(s) URL without credentials`,
      );
    }
    urls[tenant] = url.toString();
  }
  return urls;
}

export function apiKeys(env: Env, readText: (path: string) => string): { tenant: string; key: string }[] {
  const inline = text(env, 'GATEWAY_API_KEYS');
  const file = text(env, 'GATEWAY_API_KEYS_FILE');
  if (inline && file) {
    throw new ConfigProblem(
      'GATEWAY_API_KEYS_FILE',
      'set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE, not both',
    );
  }
  if (!file) return parseKeyPairs(inline ?? '', 'GATEWAY_API_KEYS');
  let contents: string;
  try {
    contents = readText(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigProblem(
      'GATEWAY_API_KEYS_FILE',
      `GATEWAY_API_KEYS_FILE=${file} cannot be read (${code})`,
    );
  }
  return parseKeyPairs(contents, 'GATEWAY_API_KEYS_FILE');
}

/** Parses `tenant:key` pairs separated by commas or new lines; `#` starts a comment line. */
function parseKeyPairs(source: string, variable: string): { tenant: string; key: string }[] {
  const pairs: { tenant: string; key: string }[] = [];
  for (const entry of source.split(/[,\n]/)) {
    const item = entry.trim();
    if (!item || item.startsWith('#')) continue;
    const colon = item.indexOf(':');
    const tenant = colon > 0 ? item.slice(0, colon).trim() : '';
    const key = colon > 0 ? item.slice(colon + 1).trim() : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(tenant) || key.length < 16) {
      // The entry is not echoed: it may hold a secret.
      throw new ConfigProblem(
        variable,
        `${variable} entry ${pairs.length + 1} must be tenant:key with a tenant of letters, digits, . _ - and a key of at least 16 characters`,
      );
    }
    const earlier = pairs.findIndex((pair) => pair.key === key);
    if (earlier >= 0) {
      // One key naming two tenants would make whose tasks a caller sees depend on entry order.
      throw new ConfigProblem(
        variable,
        `${variable} entry ${pairs.length + 1} repeats the key of entry ${earlier + 1}; every key must be distinct (a tenant may have several keys, e.g. while rotating)`,
      );
    }
    pairs.push({ tenant, key });
  }
  return pairs;
}
