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
 * range, delete a task's blobs — so an object store (S3 and the like) can implement it later.
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
