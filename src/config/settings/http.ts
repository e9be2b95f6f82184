import { resolve } from 'node:path';
import { custom, flag, httpUrl, integer, onOff, refuse, secret, text } from './define.js';
import { family } from './family.js';

export const http = family(
  'HTTP',
  {
    REQUEST_TIMEOUT_MS: integer({
      meaning: 'The longest a client may take to send one whole request (an upload included), in ms.',
      default: 120_000,
      min: 1_000,
      max: 3_600_000,
    }),
    REQUEST_IDLE_TIMEOUT_MS: integer({
      meaning: 'A request body that pauses this long (ms) is cut off and its spooled upload removed.',
      default: 30_000,
      min: 100,
      max: 600_000,
    }),
    REQUEST_BODY_MIN_BYTES_PER_SECOND: integer({
      meaning:
        'A request body bringing less than this many bytes per second over a window of\nREQUEST_BODY_RATE_WINDOW_MS is cut off (408 REQUEST_TOO_SLOW); 0: no floor.',
      default: 1_024,
      min: 0,
      max: 1_000_000_000,
    }),
    REQUEST_BODY_RATE_WINDOW_MS: integer({
      meaning: 'The window (ms) over which REQUEST_BODY_MIN_BYTES_PER_SECOND is judged.',
      default: 10_000,
      min: 100,
      max: 60_000,
    }),
    SSE_RESERVATION_TTL_MS: integer({
      meaning:
        'graphql-sse single-connection mode: a reservation (PUT /graphql/stream) that no stream connects\nto within this long (ms) is dropped.',
      default: 5_000,
      min: 100,
      max: 600_000,
    }),
    SSE_RESERVATIONS_PER_TENANT: integer({
      meaning:
        'Unconnected graphql-sse reservations a tenant may hold (one more answers 429\nSTREAM_RESERVATIONS_EXHAUSTED).',
      default: 100,
      min: 1,
      max: 1_000_000,
    }),
    SSE_STREAMS_PER_TENANT: integer({
      meaning:
        'Open event streams (SSE: /graphql, /graphql/stream) one tenant may hold on one instance; one more\nis answered 429 STREAM_LIMIT_EXCEEDED (Retry-After: 5).',
      default: 1_000,
      min: 1,
      max: 1_000_000,
    }),
    SSE_STREAMS_PER_SUBJECT: integer({
      meaning:
        "Open event streams one end user (a session token's subject) may hold on one instance, inside its\ntenant's; one more is answered 429 STREAM_LIMIT_EXCEEDED.",
      default: 20,
      min: 1,
      max: 1_000_000,
    }),
    METRICS_TOKEN: secret({
      meaning:
        'Bearer token (16+ characters) for /metrics and the details of /readyz. With GATEWAY_API_KEYS set\nand no token, /metrics answers 401 and /readyz only says ready or not.',
      minLength: 16,
    }),
    CORS_ORIGINS: custom({
      meaning:
        'Comma-separated origins (https://app.example.com) answered by CORS, with credentials. Empty: any\norigin, without credentials (the gateway key travels in a header, which needs none).',
      parse: corsOrigins,
    }),
  },
  (v) => ({
    http: {
      /** `REQUEST_TIMEOUT_MS`: the longest a client may take to send one whole request. */
      requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
      /** `REQUEST_IDLE_TIMEOUT_MS`: the longest a request body may pause before it is cut off. */
      requestIdleTimeoutMs: v.REQUEST_IDLE_TIMEOUT_MS,
      /** `REQUEST_BODY_MIN_BYTES_PER_SECOND`: the slowest a body may arrive, per window; 0: no floor. */
      requestBodyMinBytesPerSecond: v.REQUEST_BODY_MIN_BYTES_PER_SECOND,
      /** `REQUEST_BODY_RATE_WINDOW_MS`: the window over which that rate is judged. */
      requestBodyRateWindowMs: v.REQUEST_BODY_RATE_WINDOW_MS,
      /** `METRICS_TOKEN`: the Bearer token for /metrics and /readyz details; null: none. */
      metricsToken: v.METRICS_TOKEN,
      /** `CORS_ORIGINS`: the only origins answered (with credentials); null: any, without. */
      corsOrigins: v.CORS_ORIGINS,
      /** `SSE_RESERVATION_TTL_MS`: how long a graphql-sse reservation waits for its stream. */
      sseReservationTtlMs: v.SSE_RESERVATION_TTL_MS,
      /** `SSE_RESERVATIONS_PER_TENANT`: unconnected graphql-sse reservations a tenant may hold. */
      sseReservationsPerTenant: v.SSE_RESERVATIONS_PER_TENANT,
      /** `SSE_STREAMS_PER_TENANT`: open event streams a tenant may hold on one instance. */
      sseStreamsPerTenant: v.SSE_STREAMS_PER_TENANT,
      /** `SSE_STREAMS_PER_SUBJECT`: open event streams one end user may hold on one instance. */
      sseStreamsPerSubject: v.SSE_STREAMS_PER_SUBJECT,
    },
  }),
);

/** Origins such as `https://app.example.com`: scheme, host and port, nothing else. */
function corsOrigins(raw: string | undefined, name: string): string[] | null {
  if (raw === undefined) return null;
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const url = URL.parse(entry);
      if (!url) return refuse(name, `${name} holds "${entry}", which is not an origin`);
      if (url.origin === 'null' || url.origin !== entry.replace(/\/$/, '')) {
        refuse(name, `${name} holds "${entry}"; give origins only (scheme, host and port, no path)`);
      }
      return url.origin;
    });
}

export const performance = family(
  'Performance',
  {
    GATEWAY_FAST_PATHS: onOff({
      meaning:
        'on | off: equal subscriptions share one execution per update, and finished-task reads are\nanswered from an earlier answer (docs/benchmarks.md). Off changes no transport.',
    }),
  },
  (v) => ({
    /** `GATEWAY_FAST_PATHS`: equal subscriptions share executions, finished-task reads are cached (docs/benchmarks.md). */
    fastPaths: v.GATEWAY_FAST_PATHS,
  }),
);

export const trustedDocuments = family(
  'Trusted documents',
  {
    PERSISTED_OPERATIONS_FILE: text({
      meaning:
        "JSON file of document id -> document text (the codegen client preset's persisted-documents.json):\nclients may send extensions.persistedQuery.sha256Hash instead of the text. Empty: none.",
    }),
    PERSISTED_OPERATIONS_ONLY: flag({
      meaning:
        'true: only those documents run, on every transport (needs PERSISTED_OPERATIONS_FILE; turns the\nfinished-task read cache off, as it answers query texts by their bytes).',
    }),
  },
  (v) => {
    if (v.PERSISTED_OPERATIONS_ONLY && v.PERSISTED_OPERATIONS_FILE === null) {
      refuse(
        'PERSISTED_OPERATIONS_ONLY',
        'PERSISTED_OPERATIONS_ONLY=true needs PERSISTED_OPERATIONS_FILE: without it no operation would be allowed',
      );
    }
    const file = v.PERSISTED_OPERATIONS_FILE;
    return {
      /** Trusted documents (docs/operations.md); null: any operation text runs. */
      persistedOperations: file === null ? null : { file: resolve(file), only: v.PERSISTED_OPERATIONS_ONLY },
    };
  },
);

export const observability = family(
  'Observability',
  {
    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl({
      meaning:
        "OTLP/HTTP base URL of an OpenTelemetry collector (e.g. http://otel-collector:4318): spans of\nrequests and of each task's create, polls and result downloads go to <it>/v1/traces. Empty: off.",
    }),
    OTEL_SERVICE_NAME: text({ meaning: 'The service name the spans carry.', default: 'picwish-gateway' }),
  },
  (v) => ({
    /** OpenTelemetry tracing (docs/operations.md); null, the default: off. */
    tracing:
      v.OTEL_EXPORTER_OTLP_ENDPOINT === null
        ? null
        : {
            /** The collector's OTLP/HTTP base URL; spans go to `<it>/v1/traces`. */
            endpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT,
            serviceName: v.OTEL_SERVICE_NAME,
          },
  }),
);
