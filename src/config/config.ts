import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { err, ok, type Result } from '../shared/result.js';
import { withoutCredentials } from '../shared/secrets.js';

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
    /** Absent: the gateway starts its local engine and points itself at it. */
    readonly apiKey: string | null;
    readonly baseUrl: string;
    readonly timeoutMs: number;
    readonly qps: number;
    readonly taskDeadlineMs: number;
    /** `PICWISH_MAX_IMAGE_BYTES`: the largest input sent; bigger ones are fitted (downscaled). */
    readonly maxImageBytes: number;
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
  readonly redisUrl: string | null;
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
  readonly http: {
    /** `REQUEST_TIMEOUT_MS`: the longest a client may take to send one whole request. */
    readonly requestTimeoutMs: number;
    /** `REQUEST_IDLE_TIMEOUT_MS`: the longest a request body may pause before it is cut off. */
    readonly requestIdleTimeoutMs: number;
    /** `METRICS_TOKEN`: the Bearer token for /metrics and /readyz details; null: none. */
    readonly metricsToken: string | null;
    /** `CORS_ORIGINS`: the only origins answered (with credentials); null: any, without. */
    readonly corsOrigins: readonly string[] | null;
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

/**
 * `BLOB_STORE_URL`: files under DATA_DIR (unset), or S3-compatible object storage
 * (`s3://bucket/prefix`, reached through `S3_ENDPOINT`, `S3_REGION`, `S3_FORCE_PATH_STYLE` and
 * the standard AWS credential variables, which the SDK reads itself).
 */
export type BlobStoreConfig =
  | { readonly kind: 'fs' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** No leading or trailing slash; empty for the bucket's root. */
      readonly prefix: string;
      /** Null: AWS itself, by region. */
      readonly endpoint: string | null;
      readonly region: string;
      readonly forcePathStyle: boolean;
      /**
       * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) when set; null: the SDK's
       * default chain (profile, web identity, instance role). Never logged.
       */
      readonly credentials: {
        readonly accessKeyId: string;
        readonly secretAccessKey: string;
        readonly sessionToken?: string;
      } | null;
    };

/** The levels pino understands; anything else is refused at start-up. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A start-up refusal: which variable, and why. */
export interface ConfigError {
  readonly variable: string;
  readonly message: string;
}

type Env = Readonly<Record<string, string | undefined>>;

class ConfigProblem extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

function text(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigProblem(name, `${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigProblem(name, `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !/^\d*\.?\d+$/.test(raw)) {
    throw new ConfigProblem(name, `${name} must be a number, got "${raw}"`);
  }
  if (value < min || value > max)
    throw new ConfigProblem(name, `${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string): boolean {
  const raw = text(env, name);
  if (raw === null) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigProblem(name, `${name} must be true or false, got "${raw}"`);
}

function onOff(env: Env, name: string): boolean {
  const raw = (text(env, name) ?? 'on').toLowerCase();
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigProblem(name, `${name} must be on or off, got "${raw}"`);
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

function httpUrl(env: Env, name: string, fallback: string | null): string | null {
  const raw = text(env, name) ?? fallback;
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigProblem(name, `${name} must be an absolute URL, got "${withoutCredentials(raw)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigProblem(name, `${name} must be an http or https URL, got "${withoutCredentials(raw)}"`);
  }
  return raw.replace(/\/+$/, '');
}

function postgresUrl(env: Env, name: string): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not echoed: the URL may carry a password.
    throw new ConfigProblem(name, `${name} must be a postgres:// URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigProblem(
      name,
      `${name} must be a postgres:// or postgresql:// URL, got ${url.protocol}//…`,
    );
  }
  return raw;
}

/** S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function blobStore(env: Env): BlobStoreConfig {
  const raw = text(env, 'BLOB_STORE_URL');
  if (raw === null) {
    if (text(env, 'S3_ENDPOINT') !== null) {
      throw new ConfigProblem(
        'S3_ENDPOINT',
        'S3_ENDPOINT is set but BLOB_STORE_URL is not: set BLOB_STORE_URL=s3://bucket/prefix',
      );
    }
    return { kind: 'fs' };
  }
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(raw);
  const bucket = match?.[1] ?? '';
  if (!match || !BUCKET_PATTERN.test(bucket)) {
    throw new ConfigProblem(
      'BLOB_STORE_URL',
      `BLOB_STORE_URL must be s3://bucket or s3://bucket/prefix, got "${raw}"`,
    );
  }
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix)) {
    throw new ConfigProblem(
      'BLOB_STORE_URL',
      'the prefix of BLOB_STORE_URL may hold letters, digits, . _ - and /',
    );
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint: httpUrl(env, 'S3_ENDPOINT', null),
    region: text(env, 'S3_REGION') ?? text(env, 'AWS_REGION') ?? 'us-east-1',
    forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE'),
    credentials: awsCredentials(env),
  };
}

function awsCredentials(env: Env): Extract<BlobStoreConfig, { kind: 's3' }>['credentials'] {
  const accessKeyId = text(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = text(env, 'AWS_SECRET_ACCESS_KEY');
  if (accessKeyId === null && secretAccessKey === null) return null;
  if (accessKeyId === null || secretAccessKey === null) {
    const missing = accessKeyId === null ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new ConfigProblem(missing, `${missing} must be set together with its pair`);
  }
  const sessionToken = text(env, 'AWS_SESSION_TOKEN');
  return sessionToken === null
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

function metricsToken(env: Env): string | null {
  const token = text(env, 'METRICS_TOKEN');
  if (token !== null && token.length < 16) {
    throw new ConfigProblem('METRICS_TOKEN', 'METRICS_TOKEN must be at least 16 characters long');
  }
  return token;
}

/** `CORS_ORIGINS`: comma-separated origins such as `https://app.example.com`. */
function corsOrigins(env: Env): string[] | null {
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

function apiKeys(env: Env, readText: (path: string) => string): { tenant: string; key: string }[] {
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
        apiKey: text(env, 'PICWISH_API_KEY'),
        baseUrl: httpUrl(env, 'PICWISH_BASE_URL', 'https://techhk.aoscdn.com') as string,
        timeoutMs: integer(env, 'PICWISH_TIMEOUT_MS', 30_000, 100, 600_000),
        qps: decimal(env, 'PICWISH_QPS', 2, 0.01, 1000),
        taskDeadlineMs: integer(env, 'PICWISH_TASK_DEADLINE_MS', 300_000, 1_000, 86_400_000),
        maxImageBytes: integer(env, 'PICWISH_MAX_IMAGE_BYTES', 20 * 1024 * 1024, 1024, 20 * 1024 * 1024),
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
      redisUrl: text(env, 'REDIS_URL'),
      databaseUrl: postgresUrl(env, 'DATABASE_URL'),
      blobStore: blobStore(env),
      fastPaths: onOff(env, 'GATEWAY_FAST_PATHS'),
      sceneTypesFile: text(env, 'SCENE_TYPES_FILE'),
      outbound: {
        allowPrivate: boolean(env, 'IMAGE_URL_ALLOW_PRIVATE'),
        timeoutMs: integer(env, 'IMAGE_URL_TIMEOUT_MS', 15_000, 100, 120_000),
      },
      http: {
        requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
        requestIdleTimeoutMs: integer(env, 'REQUEST_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
        metricsToken: metricsToken(env),
        corsOrigins: corsOrigins(env),
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
