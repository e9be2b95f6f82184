import type { Readable } from 'node:stream';

/** What the store knows of a blob without reading it. */
export interface BlobInfo {
  readonly key: string;
  readonly bytes: number;
  readonly contentType: string;
  /** Strong validator, derived from the content. */
  readonly etag: string;
}

/**
 * Where result images live once fetched from PicWish. Deliberately small — put, stat, read a
 * range, delete a task's blobs — so an object store can implement it: files under DATA_DIR by
 * default (`FsBlobStore`), S3-compatible storage in a cluster (`S3BlobStore`).
 * Keys are content-addressed within a task: `results/<taskId>/<sha256>.<ext>`.
 */
export interface BlobStore {
  /** Writes atomically: readers see the whole blob or none of it. */
  put(key: string, data: Uint8Array, contentType: string): Promise<BlobInfo>;
  stat(key: string): Promise<BlobInfo | null>;
  /** Streams `[start, end]` (inclusive) or the whole blob. */
  read(key: string, range?: { start: number; end: number }): Readable;
  /** Removes every blob whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}

/** The key prefix of one task's results, so deleting a task removes exactly its files. */
export function taskBlobPrefix(taskId: string): string {
  return `results/${taskId}/`;
}

/** The task a key lies under (`results/<taskId>/`), or null for a key outside every task. */
export function taskIdOfBlob(key: string): string | null {
  return /^results\/([^/]+)\//.exec(key)?.[1] ?? null;
}

/** The task prefix a key lies under (`results/<taskId>/`), or null for a key outside every task. */
export function taskBlobPrefixOf(key: string): string | null {
  const taskId = taskIdOfBlob(key);
  return taskId === null ? null : taskBlobPrefix(taskId);
}

const KEY_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Keys are plain relative paths: no `..`, no empty or dot-led segments, nothing to escape with. */
export function isValidBlobKey(key: string): boolean {
  return KEY_PATTERN.test(key) && !key.includes('..');
}

/**
 * Keys end in the content's sha256, so the key itself is a strong validator, the same whichever
 * store holds the blob (an S3 ETag of a multipart upload is not a content hash).
 */
export function blobEtag(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return `"${name.replace(/\.[^.]*$/, '')}"`;
}
