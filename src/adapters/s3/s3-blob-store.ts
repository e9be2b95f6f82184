import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type BlobInfo, type BlobStore, blobEtag, isValidBlobKey } from '../../results/blob-store.js';

/** Where the blobs go: `BLOB_STORE_URL=s3://bucket/prefix`. */
export interface S3Location {
  readonly bucket: string;
  /** Prepended to every key (no leading or trailing slash); empty for the bucket's root. */
  readonly prefix: string;
}

/** How to reach the store: `S3_ENDPOINT`, `S3_REGION`, `S3_FORCE_PATH_STYLE`. */
export interface S3Endpoint {
  /** Null: AWS itself, by region. */
  readonly endpoint: string | null;
  readonly region: string;
  /** Bucket in the path instead of the host name, as MinIO, Ceph and most self-hosted stores want. */
  readonly forcePathStyle: boolean;
}

/**
 * An S3 client for `endpoint`. Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID
 * and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance roles) unless given.
 */
export function createS3Client(endpoint: S3Endpoint, credentials?: S3ClientConfig['credentials']): S3Client {
  return new S3Client({
    region: endpoint.region,
    forcePathStyle: endpoint.forcePathStyle,
    ...(endpoint.endpoint ? { endpoint: endpoint.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** What the SDK's errors carry that tells "not there" from a failure. */
function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Results (and, in a cluster, spooled uploads) in S3-compatible object storage, so every gateway
 * instance serves every blob. Clients still get the gateway's signed `/files` links, which stream
 * from here: links keep one shape and lifetime whichever store runs, work when the bucket is not
 * reachable from clients, and keep the route's ETag, Range and 304 handling. Puts go through
 * lib-storage's `Upload`, which switches to a multipart upload for large bodies; an object
 * appears whole or not at all, as the BlobStore contract wants.
 */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {}

  #objectKey(key: string): string {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  async put(key: string, data: Uint8Array, contentType: string): Promise<BlobInfo> {
    await this.putStream(key, data, contentType);
    return { key, bytes: data.byteLength, contentType, etag: blobEtag(key) };
  }

  /** Streams `body` into the object without holding it in memory (multipart when large). */
  async putStream(key: string, body: Uint8Array | Readable, contentType: string): Promise<void> {
    await new Upload({
      client: this.client,
      params: {
        Bucket: this.location.bucket,
        Key: this.#objectKey(key),
        Body: body,
        ContentType: contentType,
      },
    }).done();
  }

  async stat(key: string): Promise<BlobInfo | null> {
    if (!isValidBlobKey(key)) return null;
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.#objectKey(key) }),
      );
      return {
        key,
        bytes: head.ContentLength ?? 0,
        contentType: head.ContentType ?? 'application/octet-stream',
        etag: blobEtag(key),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    const { client, location } = this;
    const objectKey = this.#objectKey(key);
    return Readable.from(
      (async function* () {
        const answer = await client.send(
          new GetObjectCommand({
            Bucket: location.bucket,
            Key: objectKey,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        yield* answer.Body as Readable;
      })(),
      { objectMode: false },
    );
  }

  async deletePrefix(prefix: string): Promise<void> {
    const full = this.#objectKey(prefix.replace(/\/+$/, ''));
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: `${full}/`,
          ContinuationToken: token,
        }),
      );
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (keys.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** True when the bucket answers, for /readyz. */
  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
