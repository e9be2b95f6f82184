import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { err, ok, type Result } from '../shared/result.js';
import { apiKeys, corsOrigins, metricsToken, tenantWebhookUrls } from './access-config.js';
import { type BlobStoreConfig, blobStore } from './blob-store-config.js';
import {
  boolean,
  ConfigProblem,
  decimal,
  type Env,
  httpUrl,
  integer,
  onOff,
  postgresUrl,
  text,
} from './env-values.js';

/**
 * Everything the gateway reads from its environment, parsed once at start-up so that a bad value
 * stops the process with a message naming the variable instead of failing later in a request.
 * `.env.example` documents every field; keep the two in step.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute base for links the gateway hands out (signed result URLs); null: where it listens. */
  readonly publicUrl: string | null;
  readonly picwish: {
    /**
     * `PICWISH_API_KEYS` (several, comma-separated) or `PICWISH_API_KEY` (one): each key gets its
     * own QPS budget and scheduler. Empty: the gateway starts its local engine and points itself at it.
     */
    readonly apiKeys: readonly string[];
    readonly baseUrl: string;
    readonly timeoutMs: number;
    readonly qps: number;
    readonly taskDeadlineMs: number;
    /** `PICWISH_MAX_IMAGE_BYTES`: the largest input sent; bigger ones are fitted (downscaled). */
    readonly maxImageBytes: number;
    /**
     * `IMAGE_DECODE_BUDGET_MB` in bytes: the most one decode of an input may hold at once; an
     * interlaced PNG, progressive JPEG or WebP needing more is refused before decoding.
     */
    readonly decodeBudgetBytes: number;
    /**
     * What PicWish charges, for the credit fields and metrics: `PICWISH_CREDITS_PER_IMAGE` per
     * generated image, `PICWISH_CUTOUT_CREDITS` per background removal that came back (#14).
     */
    readonly credits: { readonly perImage: number; readonly cutout: number };
  };
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly nodeEnv: string;
  readonly files: {
    readonly signingSecret: string | null;
    readonly urlTtlSeconds: number;
    readonly retentionDays: number;
  };
  readonly auth: {
    /** Raw `tenant:key` pairs; hashed by the auth module, never logged. */
    readonly apiKeys: readonly { tenant: string; key: string }[];
    readonly allowAnonymous: boolean;
    readonly rateLimitPerMinute: number;
    readonly maxActiveTasks: number;
  };
  /** `DATABASE_URL`: PostgreSQL as the cluster's system of record; null: SQLite under DATA_DIR. */
  readonly databaseUrl: string | null;
  /** Where results (and, in a cluster, spooled uploads) live. */
  readonly blobStore: BlobStoreConfig;
  /** Shortcuts past Yoga for live task streams and finished-task reads (docs/benchmarks.md). */
  readonly fastPaths: boolean;
  readonly sceneTypesFile: string | null;
  /** Fetching URLs clients give (image inputs) and result links off the upstream's own origin. */
  readonly outbound: {
    /** `IMAGE_URL_ALLOW_PRIVATE`: such URLs may reach loopback and private networks (local setups). */
    readonly allowPrivate: boolean;
    /** `IMAGE_URL_TIMEOUT_MS`: one image URL fetch, redirects and body included. */
    readonly timeoutMs: number;
  };
  /** Signed webhooks (docs/webhooks.md). */
  readonly webhooks: {
    /**
     * `WEBHOOK_URL_ALLOW_PRIVATE`: webhook URLs may reach loopback and private networks. Webhooks
     * are also opened by `IMAGE_URL_ALLOW_PRIVATE`, which opens every outbound fetch.
     */
    readonly allowPrivate: boolean;
    /** `WEBHOOK_TIMEOUT_MS`: one delivery attempt, connect to last response byte. */
    readonly timeoutMs: number;
    /** `WEBHOOK_RETRY_BASE_MS`: the first retry's delay; each further one doubles (with jitter). */
    readonly retryBaseMs: number;
    /** `WEBHOOK_SECRET_GRACE_SECONDS` in ms: how long a rotated-out secret keeps signing too. */
    readonly secretGraceMs: number;
    /** `TENANT_WEBHOOK_URLS`: a tenant's `webhookUrl` for tasks that name none. */
    readonly tenantDefaults: Readonly<Record<string, string>>;
  };
  readonly http: {
    /** `REQUEST_TIMEOUT_MS`: the longest a client may take to send one whole request. */
    readonly requestTimeoutMs: number;
    /** `REQUEST_IDLE_TIMEOUT_MS`: the longest a request body may pause before it is cut off. */
    readonly requestIdleTimeoutMs: number;
    /** `REQUEST_BODY_MIN_BYTES_PER_SECOND`: the slowest a body may arrive, per window; 0: no floor. */
    readonly requestBodyMinBytesPerSecond: number;
    /** `REQUEST_BODY_RATE_WINDOW_MS`: the window over which that rate is judged. */
    readonly requestBodyRateWindowMs: number;
    /** `METRICS_TOKEN`: the Bearer token for /metrics and /readyz details; null: none. */
    readonly metricsToken: string | null;
    /** `CORS_ORIGINS`: the only origins answered (with credentials); null: any, without. */
    readonly corsOrigins: readonly string[] | null;
    /** `SSE_RESERVATION_TTL_MS`: how long a graphql-sse reservation waits for its stream. */
    readonly sseReservationTtlMs: number;
    /** `SSE_RESERVATIONS_PER_TENANT`: unconnected graphql-sse reservations a tenant may hold. */
    readonly sseReservationsPerTenant: number;
  };
  readonly engine: {
    /** Simulated run time of one task on the local engine. */
    readonly durationMs: number;
  };
  /** OpenTelemetry tracing (docs/operations.md); null, the default: off. */
  readonly tracing: {
    /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/HTTP base URL; spans go to `<it>/v1/traces`. */
    readonly endpoint: string;
    /** `OTEL_SERVICE_NAME` */
    readonly serviceName: string;
  } | null;
  /** Trusted documents (docs/operations.md): `PERSISTED_OPERATIONS_FILE`, `PERSISTED_OPERATIONS_ONLY`. */
  readonly persistedOperations: { readonly file: string; readonly only: boolean } | null;
}

/** The levels pino understands; anything else is refused at start-up. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A start-up refusal: which variable, and why. */
export interface ConfigError {
  readonly variable: string;
  readonly message: string;
}

function tracing(env: Env): Config['tracing'] {
  const endpoint = httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', null);
  return endpoint ? { endpoint, serviceName: text(env, 'OTEL_SERVICE_NAME') ?? 'picwish-gateway' } : null;
}

function persistedOperations(env: Env): Config['persistedOperations'] {
  const file = text(env, 'PERSISTED_OPERATIONS_FILE');
  const only = boolean(env, 'PERSISTED_OPERATIONS_ONLY');
  if (only && file === null) {
    throw new ConfigProblem(
      'PERSISTED_OPERATIONS_ONLY',
      'PERSISTED_OPERATIONS_ONLY=true needs PERSISTED_OPERATIONS_FILE: without it no operation would be allowed',
    );
  }
  return file === null ? null : { file: resolve(file), only };
}

/**
 * The Redis cluster mode was retired (#13): an instance still configured for it must not start on
 * SQLite as a lone gateway beside its old cluster, so `REDIS_URL` stops it with the way forward.
 * The value is never echoed (it may hold a password).
 */
function refuseRedis(env: Env): void {
  if (text(env, 'REDIS_URL') === null) return;
  throw new ConfigProblem(
    'REDIS_URL',
    'REDIS_URL is set, but the Redis cluster mode was removed: several instances now share PostgreSQL and object storage. Set DATABASE_URL=postgres://… and BLOB_STORE_URL=s3://bucket/prefix instead and unset REDIS_URL; tasks in Redis are not moved (the README\'s "Moving from the Redis mode" says how to switch).',
  );
}

/** `PICWISH_API_KEYS` or `PICWISH_API_KEY`, never both: which one wins would be a guess. */
function picwishKeys(env: Env): string[] {
  const one = text(env, 'PICWISH_API_KEY');
  const several = text(env, 'PICWISH_API_KEYS');
  if (several === null) return one === null ? [] : [one];
  if (one !== null) {
    throw new ConfigProblem('PICWISH_API_KEYS', 'set PICWISH_API_KEYS or PICWISH_API_KEY, not both');
  }
  const keys = several
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  if (new Set(keys).size !== keys.length) {
    throw new ConfigProblem('PICWISH_API_KEYS', 'PICWISH_API_KEYS lists the same key twice');
  }
  return keys;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * Reads the configuration from `env` (the process environment by default); `readText` reads the
 * file named by `GATEWAY_API_KEYS_FILE` and is injectable so tests need no files.
 */
export function loadConfig(
  env: Env = process.env,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Result<Config, ConfigError> {
  try {
    refuseRedis(env);
    const port = integer(env, 'PORT', 4000, 0, 65535);
    const host = text(env, 'HOST') ?? '127.0.0.1';
    if (!isIP(host.replace(/^\[|\]$/g, '')) && !/^[A-Za-z0-9.-]+$/.test(host)) {
      throw new ConfigProblem('HOST', `HOST must be an IP address or host name, got "${host}"`);
    }
    const logLevelRaw = (text(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
    if (!LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
      throw new ConfigProblem(
        'LOG_LEVEL',
        `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`,
      );
    }
    const keys = apiKeys(env, readText);
    const allowAnonymous = boolean(env, 'ALLOW_ANONYMOUS');
    if (keys.length === 0 && !allowAnonymous && !isLoopback(host)) {
      throw new ConfigProblem(
        'HOST',
        `HOST=${host} is reachable from other machines, but no GATEWAY_API_KEYS are set: anyone could spend the PicWish key. Set GATEWAY_API_KEYS, bind to 127.0.0.1, or set ALLOW_ANONYMOUS=true to accept anonymous use on purpose.`,
      );
    }
    const publicUrl = httpUrl(env, 'PUBLIC_URL', null);
    const secret = text(env, 'FILES_SIGNING_SECRET');
    if (secret !== null && secret.length < 32) {
      throw new ConfigProblem(
        'FILES_SIGNING_SECRET',
        'FILES_SIGNING_SECRET must be at least 32 characters long',
      );
    }
    const config: Config = {
      port,
      host,
      publicUrl,
      picwish: {
        apiKeys: picwishKeys(env),
        baseUrl: httpUrl(env, 'PICWISH_BASE_URL', 'https://techhk.aoscdn.com') as string,
        timeoutMs: integer(env, 'PICWISH_TIMEOUT_MS', 30_000, 100, 600_000),
        qps: decimal(env, 'PICWISH_QPS', 2, 0.01, 1000),
        taskDeadlineMs: integer(env, 'PICWISH_TASK_DEADLINE_MS', 300_000, 1_000, 86_400_000),
        maxImageBytes: integer(env, 'PICWISH_MAX_IMAGE_BYTES', 20 * 1024 * 1024, 1024, 20 * 1024 * 1024),
        decodeBudgetBytes: integer(env, 'IMAGE_DECODE_BUDGET_MB', 128, 1, 4096) * 1024 * 1024,
        credits: {
          perImage: integer(env, 'PICWISH_CREDITS_PER_IMAGE', 3, 0, 1_000_000),
          cutout: integer(env, 'PICWISH_CUTOUT_CREDITS', 1, 0, 1_000_000),
        },
      },
      dataDir: resolve(text(env, 'DATA_DIR') ?? './data'),
      logLevel: logLevelRaw as LogLevel,
      nodeEnv: text(env, 'NODE_ENV') ?? 'development',
      files: {
        signingSecret: secret,
        urlTtlSeconds: integer(env, 'RESULT_URL_TTL_SECONDS', 86_400, 10, 31_536_000),
        retentionDays: decimal(env, 'RESULT_RETENTION_DAYS', 30, 0.00001, 36_500),
      },
      auth: {
        apiKeys: keys,
        allowAnonymous,
        rateLimitPerMinute: integer(env, 'TENANT_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
        maxActiveTasks: integer(env, 'TENANT_MAX_ACTIVE_TASKS', 20, 1, 1_000_000),
      },
      databaseUrl: postgresUrl(env, 'DATABASE_URL'),
      blobStore: blobStore(env),
      fastPaths: onOff(env, 'GATEWAY_FAST_PATHS'),
      sceneTypesFile: text(env, 'SCENE_TYPES_FILE'),
      outbound: {
        allowPrivate: boolean(env, 'IMAGE_URL_ALLOW_PRIVATE'),
        timeoutMs: integer(env, 'IMAGE_URL_TIMEOUT_MS', 15_000, 100, 120_000),
      },
      webhooks: {
        allowPrivate: boolean(env, 'WEBHOOK_URL_ALLOW_PRIVATE'),
        timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
        retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 5_000, 10, 3_600_000),
        secretGraceMs: integer(env, 'WEBHOOK_SECRET_GRACE_SECONDS', 86_400, 0, 2_592_000) * 1000,
        tenantDefaults: tenantWebhookUrls(env),
      },
      http: {
        requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
        requestIdleTimeoutMs: integer(env, 'REQUEST_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
        requestBodyMinBytesPerSecond: integer(
          env,
          'REQUEST_BODY_MIN_BYTES_PER_SECOND',
          1_024,
          0,
          1_000_000_000,
        ),
        requestBodyRateWindowMs: integer(env, 'REQUEST_BODY_RATE_WINDOW_MS', 10_000, 100, 60_000),
        metricsToken: metricsToken(env),
        corsOrigins: corsOrigins(env),
        sseReservationTtlMs: integer(env, 'SSE_RESERVATION_TTL_MS', 5_000, 100, 600_000),
        sseReservationsPerTenant: integer(env, 'SSE_RESERVATIONS_PER_TENANT', 100, 1, 1_000_000),
      },
      engine: {
        durationMs: integer(env, 'LOCAL_ENGINE_DURATION_MS', 4_000, 0, 600_000),
      },
      tracing: tracing(env),
      persistedOperations: persistedOperations(env),
    };
    return ok(config);
  } catch (error) {
    if (error instanceof ConfigProblem) return err({ variable: error.variable, message: error.message });
    throw error;
  }
}
