import { createHash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { err, ok, type Result } from '../shared/result.js';
import { fileTooLarge, type PngLimits } from './limits.js';
import { type ImageProblem, problem } from './problems.js';

/** A stream of image bytes: graphql-upload-minimal hands resolvers a `Readable`, files give one too. */
export type ByteSource = Readable | NodeJS.ReadableStream;

/**
 * What a format's checks plug into the spool loop: they see every chunk before it is counted and
 * written, and a problem from `onChunk` stops the upload there, so a bad file is refused at the
 * first chunk that shows it. `onEnd` gives the verdict once every byte was seen, and what the
 * checks learned.
 */
export interface SpoolObserver<T> {
  onChunk(bytes: Uint8Array): ImageProblem | undefined;
  onEnd(): Result<T, ImageProblem>;
}

/** An upload on disk, with what is needed to store and cite it and what its observer learned. */
export interface SpooledStream<T> {
  path: string;
  bytes: number;
  sha256: string;
  observed: T;
}

/**
 * The one loop that spools an upload: streams `source` to `destPath` (created exclusively, parent
 * dir must exist), counting and hashing, and refuses more than `limits.maxBytes` or whatever
 * `observer` refuses without reading further: the source is destroyed and the partial file
 * removed. Memory is one chunk plus what the observer keeps. Exists so an upload is judged while it
 * arrives instead of after it was held whole in memory.
 *
 * Resolves with a problem for anything the uploader did, including a failed upload stream (see
 * {@link uploadErrorToProblem}); rejects only for server faults such as an existing `destPath` or a
 * full disk, after removing the file it created.
 */
export async function spoolStream<T>(
  source: ByteSource,
  destPath: string,
  limits: PngLimits,
  observer: SpoolObserver<T>,
): Promise<Result<SpooledStream<T>, ImageProblem>> {
  let file: FileHandle;
  try {
    file = await open(destPath, 'wx');
  } catch (error) {
    abandonSource(source);
    throw error;
  }
  let kept = false;
  try {
    const read = await copyChecked(source, file, limits, observer);
    if (!read.ok) return read;
    kept = true;
    return ok({ ...read.value, path: destPath });
  } finally {
    await file.close();
    if (!kept) await rm(destPath, { force: true });
  }
}

/**
 * Each chunk is awaited on disk before the next is pulled, so a slow disk slows the upload. The
 * observer judges a chunk before it is counted, so an image whose header already says it is a
 * bomb is refused as one even when the same chunk also crosses the byte cap.
 */
async function copyChecked<T>(
  source: ByteSource,
  file: FileHandle,
  limits: PngLimits,
  observer: SpoolObserver<T>,
): Promise<Result<Omit<SpooledStream<T>, 'path'>, ImageProblem>> {
  const hash = createHash('sha256');
  const chunks = source[Symbol.asyncIterator]();
  let bytes = 0;
  let settled = false;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (error) {
        return err(uploadErrorToProblem(error, bytes, limits));
      }
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError('An upload source must yield bytes; was an encoding set on the stream?');
      }
      const refusal = observer.onChunk(chunk);
      if (refusal) return err(refusal);
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return err(fileTooLarge(limits, undefined));
      hash.update(chunk);
      await writeAll(file, chunk);
    }
    if (isTruncatedUpload(source)) return err(fileTooLarge(limits, undefined));
    const observed = observer.onEnd();
    if (!observed.ok) return observed;
    settled = true;
    return ok({ bytes, sha256: hash.digest('hex'), observed: observed.value });
  } finally {
    if (!settled) abandonSource(source);
  }
}

/** `FileHandle.write` may write less than asked; a spool file must hold every byte that was hashed. */
async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await file.write(chunk, written, chunk.length - written);
    written += bytesWritten;
  }
}

/**
 * busboy (under graphql-upload-minimal) ends a file stream normally when it hits `maxFileSize` and
 * only marks it `truncated`; without this the cut-off file would pass as a short one.
 */
function isTruncatedUpload(source: ByteSource): boolean {
  return (source as { truncated?: unknown }).truncated === true;
}

/**
 * Stops a source nobody will read any more, so the upload does not stall the request. The late-error
 * listener is there because the client or the multipart parser may still fail the stream after we
 * walked away, and an unheard 'error' would crash the process.
 */
function abandonSource(source: ByteSource): void {
  source.on('error', () => {});
  const destroy = (source as { destroy?: unknown }).destroy;
  if (typeof destroy === 'function') destroy.call(source);
}

/**
 * graphql-upload-minimal fails the stream with an HTTP 413 error ("File truncated as it exceeds the
 * … byte size limit") when the multipart limit is hit, which is FILE_TOO_LARGE; any other stream
 * error (client abort, broken connection) leaves an incomplete file, reported as CORRUPT_IMAGE
 * "upload was interrupted" so the client knows to send it again.
 */
function uploadErrorToProblem(error: unknown, bytesRead: number, limits: PngLimits): ImageProblem {
  if (saysLimitExceeded(error)) return fileTooLarge(limits, undefined);
  return problem(
    'CORRUPT_IMAGE',
    `The upload was interrupted after ${bytesRead} bytes, so the file is incomplete; please send it again.`,
  );
}

function saysLimitExceeded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, statusCode, message } = error as {
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
  };
  if (status === 413 || statusCode === 413) return true;
  return typeof message === 'string' && /exceeds? .*limit|too large/i.test(message);
}
