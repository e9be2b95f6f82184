import { boolean, ConfigProblem, type Env, httpUrl, text } from './env-values.js';

/** Where stored results and spooled uploads live: a folder under DATA_DIR, or an S3 bucket. */

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

/** S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function blobStore(env: Env): BlobStoreConfig {
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
