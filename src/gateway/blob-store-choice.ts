import { join } from 'node:path';
import { createS3Client, S3BlobStore } from '../adapters/s3/s3-blob-store.js';
import type { Config } from '../config/config.js';
import type { SpoolMirror } from '../core/upload-spool.js';
import type { BlobStore } from '../results/blob-store.js';
import { FsBlobStore } from '../results/fs-blob-store.js';

/** The blob store chosen by `BLOB_STORE_URL`, with what /readyz and the shutdown need of it. */
export interface BlobStoreChoice {
  readonly blobs: BlobStore;
  readonly kind: 'fs' | 's3';
  /** Where spooled uploads are copied so any instance can send them: the bucket; none on disk. */
  readonly spoolMirror: SpoolMirror | null;
  /** True when the store answers (always, for files under DATA_DIR). */
  ping(): Promise<boolean>;
  close(): void;
}

/** Files under DATA_DIR/blobs by default; S3-compatible object storage with `BLOB_STORE_URL`. */
export function chooseBlobStore(config: Config): BlobStoreChoice {
  const settings = config.blobStore;
  if (settings.kind === 'fs') {
    return {
      blobs: new FsBlobStore(join(config.dataDir, 'blobs')),
      kind: 'fs',
      spoolMirror: null,
      ping: async () => true,
      close: () => undefined,
    };
  }
  const s3 = new S3BlobStore(createS3Client(settings, settings.credentials ?? undefined), {
    bucket: settings.bucket,
    prefix: settings.prefix,
  });
  return { blobs: s3, kind: 's3', spoolMirror: s3, ping: () => s3.ping(), close: () => s3.close() };
}
