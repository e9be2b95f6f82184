import { custom, flag, integer, refuse } from './define.js';
import { family } from './family.js';

/** Fetching URLs clients give (image inputs) and result links off the upstream's own origin. */
export const imageUrls = family(
  'Image URLs',
  {
    IMAGE_URL_ALLOW_PRIVATE: flag({
      meaning:
        "The gateway fetches an image URL itself (once, checked like an upload) and sends PicWish the file.\ntrue: such URLs, and result links off the upstream's own origin, may reach loopback and private\nnetworks (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) — for a local setup only. Link-local,\ncloud metadata (169.254.169.254, fd00:ec2::254), multicast and reserved addresses stay refused.",
    }),
    IMAGE_URL_TIMEOUT_MS: integer({
      meaning:
        'One image URL fetch (DNS, connect, at most 3 redirects, the body) must finish within this, in ms.',
      default: 15_000,
      min: 100,
      max: 120_000,
    }),
  },
  (v) => ({
    outbound: {
      /** `IMAGE_URL_ALLOW_PRIVATE`: such URLs may reach loopback and private networks (local setups). */
      allowPrivate: v.IMAGE_URL_ALLOW_PRIVATE,
      /** `IMAGE_URL_TIMEOUT_MS`: one image URL fetch, redirects and body included. */
      timeoutMs: v.IMAGE_URL_TIMEOUT_MS,
    },
  }),
);

/** Signed webhooks (docs/webhooks.md). */
export const webhooks = family(
  'Webhooks (docs/webhooks.md)',
  {
    WEBHOOK_URL_ALLOW_PRIVATE: flag({
      meaning:
        'true: webhook URLs, and only they, may reach loopback and private networks (local receivers,\ntests). IMAGE_URL_ALLOW_PRIVATE=true opens them as well. Link-local and metadata stay refused.',
    }),
    WEBHOOK_TIMEOUT_MS: integer({
      meaning:
        'One delivery try (DNS, connect, send, the answer read up to 64 KB) must finish within this, in ms.',
      default: 10_000,
      min: 100,
      max: 60_000,
    }),
    WEBHOOK_CONNECT_TIMEOUT_MS: integer({
      meaning:
        'Opening the connection of one delivery try (TCP and TLS) must finish within this, in ms: a\nreceiver that never answers fails fast instead of holding a send slot for all of WEBHOOK_TIMEOUT_MS.',
      default: 3_000,
      min: 100,
      max: 60_000,
    }),
    WEBHOOK_IN_FLIGHT_PER_TENANT: integer({
      meaning:
        "Delivery tries of one tenant in flight at once, on all instances together (of 16 per instance):\na tenant whose receiver hangs holds these slots, never the other tenants'.",
      default: 4,
      min: 1,
      max: 16,
    }),
    WEBHOOK_RETRY_BASE_MS: integer({
      meaning:
        'Delay before the first retry, in ms; it doubles per try (half of it random), at most an hour\napart, for 24 hours after the event. 2xx delivers, 410 gives up at once.',
      default: 5_000,
      min: 10,
      max: 3_600_000,
    }),
    WEBHOOK_SECRET_GRACE_SECONDS: integer({
      meaning:
        'After rotateWebhookSecret, deliveries carry a second signature with the old secret this long.',
      default: 86_400,
      min: 0,
      max: 2_592_000,
    }),
    TENANT_WEBHOOK_URLS: custom({
      meaning:
        "Each tenant's default webhookUrl, for tasks that name none: tenant=https://... entries separated\nby spaces or new lines (the tenant is the name GATEWAY_API_KEYS gives it; `local` without keys).",
      parse: tenantWebhookUrls,
    }),
  },
  (v) => ({
    webhooks: {
      /**
       * `WEBHOOK_URL_ALLOW_PRIVATE`: webhook URLs may reach loopback and private networks. Webhooks
       * are also opened by `IMAGE_URL_ALLOW_PRIVATE`, which opens every outbound fetch.
       */
      allowPrivate: v.WEBHOOK_URL_ALLOW_PRIVATE,
      /** `WEBHOOK_TIMEOUT_MS`: one delivery attempt, connect to last response byte. */
      timeoutMs: v.WEBHOOK_TIMEOUT_MS,
      /** `WEBHOOK_CONNECT_TIMEOUT_MS`: opening one try's connection. */
      connectTimeoutMs: v.WEBHOOK_CONNECT_TIMEOUT_MS,
      /** `WEBHOOK_IN_FLIGHT_PER_TENANT`: one tenant's tries in flight at once (#27). */
      inFlightPerTenant: v.WEBHOOK_IN_FLIGHT_PER_TENANT,
      /** `WEBHOOK_RETRY_BASE_MS`: the first retry's delay; each further one doubles (with jitter). */
      retryBaseMs: v.WEBHOOK_RETRY_BASE_MS,
      /** `WEBHOOK_SECRET_GRACE_SECONDS` in ms: how long a rotated-out secret keeps signing too. */
      secretGraceMs: v.WEBHOOK_SECRET_GRACE_SECONDS * 1000,
      /** `TENANT_WEBHOOK_URLS`: a tenant's `webhookUrl` for tasks that name none. */
      tenantDefaults: v.TENANT_WEBHOOK_URLS,
    },
  }),
);

/**
 * `tenant=https://…` entries separated by spaces or new lines (URLs may hold commas); `#` starts a
 * comment line. The form is checked here; the address, like any webhook URL's, when a task is made.
 */
function tenantWebhookUrls(raw: string | undefined, name: string): Readonly<Record<string, string>> {
  const urls: Record<string, string> = {};
  const entries = (raw ?? '')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(/\s+/))
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const equals = entry.indexOf('=');
    const tenant = equals > 0 ? entry.slice(0, equals) : '';
    const url = URL.parse(entry.slice(equals + 1));
    if (
      !/^[A-Za-z0-9._-]{1,64}$/.test(tenant) ||
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.username ||
      url.password
    ) {
      refuse(
        name,
        `${name} entry ${index + 1} must be tenant=URL with an absolute http(s) URL without credentials`,
      );
    }
    urls[tenant] = url.toString();
  }
  return urls;
}
