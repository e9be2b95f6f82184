import { custom, flag, httpUrl, postgresUrl, refuse, text } from './define.js';
import { family } from './family.js';

/** S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Where results (and, in a cluster, spooled uploads) live: a folder under DATA_DIR, or an S3 bucket. */
export const objectStorage = family(
  'Object storage',
  {
    BLOB_STORE_URL: custom({
      meaning:
        "s3://bucket/prefix: results live in S3-compatible object storage instead of DATA_DIR/blobs. Clients\nstill get the gateway's signed /files links, which stream from the bucket. Uploads waiting to be\nsent are copied there too (spool/<task id>/, removed once sent), so in a cluster any instance can\nsend them, and accepted creates' upstream ids are journaled there (journal/). Empty: files.",
      parse: (raw, name) => {
        if (raw === undefined) return null;
        const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(raw);
        const bucket = match?.[1] ?? '';
        if (!match || !BUCKET_PATTERN.test(bucket)) {
          refuse(name, `${name} must be s3://bucket or s3://bucket/prefix, got "${raw}"`);
        }
        const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
        if (prefix !== '' && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix)) {
          refuse(name, `the prefix of ${name} may hold letters, digits, . _ - and /`);
        }
        return { bucket, prefix };
      },
    }),
    S3_ENDPOINT: httpUrl({
      meaning: 'The S3-compatible service (http://minio:9000, …). Empty: AWS itself, by S3_REGION.',
    }),
    S3_REGION: text({ meaning: "The bucket's region. Empty: AWS_REGION, and us-east-1 without it." }),
    AWS_REGION: text({ meaning: 'The AWS convention for the region, used when S3_REGION is empty.' }),
    S3_FORCE_PATH_STYLE: flag({
      meaning:
        'true: bucket in the path, not the host name (MinIO, Ceph and most self-hosted stores want it).',
    }),
    AWS_ACCESS_KEY_ID: text({
      meaning:
        "S3 credentials, set together with AWS_SECRET_ACCESS_KEY. Empty: the AWS SDK's default chain (profile,\nweb identity, instance role).",
    }),
    AWS_SECRET_ACCESS_KEY: text({ meaning: 'The secret of AWS_ACCESS_KEY_ID.' }),
    AWS_SESSION_TOKEN: text({
      meaning: 'The session token that comes with temporary credentials (with the two above).',
    }),
  },
  (v) => {
    if (v.BLOB_STORE_URL === null) {
      if (v.S3_ENDPOINT !== null) {
        refuse(
          'S3_ENDPOINT',
          'S3_ENDPOINT is set but BLOB_STORE_URL is not: set BLOB_STORE_URL=s3://bucket/prefix',
        );
      }
      return { blobStore: { kind: 'fs' as const } };
    }
    const blobStore = {
      kind: 's3' as const,
      bucket: v.BLOB_STORE_URL.bucket,
      /** No leading or trailing slash; empty for the bucket's root. */
      prefix: v.BLOB_STORE_URL.prefix,
      /** Null: AWS itself, by region. */
      endpoint: v.S3_ENDPOINT,
      region: v.S3_REGION ?? v.AWS_REGION ?? 'us-east-1',
      forcePathStyle: v.S3_FORCE_PATH_STYLE,
      /** Null: the SDK's default chain (profile, web identity, instance role). Never logged. */
      credentials: awsCredentials(v.AWS_ACCESS_KEY_ID, v.AWS_SECRET_ACCESS_KEY, v.AWS_SESSION_TOKEN),
    };
    return { blobStore };
  },
);

function awsCredentials(
  accessKeyId: string | null,
  secretAccessKey: string | null,
  sessionToken: string | null,
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null {
  if (accessKeyId === null && secretAccessKey === null) return null;
  if (accessKeyId === null || secretAccessKey === null) {
    const missing = accessKeyId === null ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    return refuse(missing, `${missing} must be set together with its pair`);
  }
  return sessionToken === null
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

export const scaleOut = family(
  'Scale-out',
  {
    DATABASE_URL: postgresUrl({
      meaning:
        'PostgreSQL (postgres://user:password@host:5432/db): several gateway processes act as one, with\ntasks, tenant limits and queue positions in PostgreSQL and one elected scheduler per PicWish\nkey. Use with BLOB_STORE_URL (which also carries the uploads: no shared DATA_DIR). Empty: SQLite.',
    }),
  },
  (v) => ({
    /** `DATABASE_URL`: PostgreSQL as the cluster's system of record; null: SQLite under DATA_DIR. */
    databaseUrl: v.DATABASE_URL,
  }),
);

/**
 * The Redis cluster mode was retired (#13): an instance still configured for it must not start on
 * SQLite as a lone gateway beside its old cluster, so `REDIS_URL` stops it with the way forward.
 * The value is never echoed (it may hold a password).
 */
export const retired = family(
  'Retired',
  {
    REDIS_URL: custom({
      meaning:
        'Removed with the Redis cluster mode: set, it stops start-up. Use DATABASE_URL and BLOB_STORE_URL\n(the README\'s "Moving from the Redis mode").',
      parse: (raw, name) => {
        if (raw === undefined) return null;
        return refuse(
          name,
          `${name} is set, but the Redis cluster mode was removed: several instances now share PostgreSQL and object storage. Set DATABASE_URL=postgres://… and BLOB_STORE_URL=s3://bucket/prefix instead and unset ${name}; tasks in Redis are not moved (the README's "Moving from the Redis mode" says how to switch).`,
        );
      },
    }),
  },
  () => ({}),
);
