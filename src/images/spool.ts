import { type FileHandle, open, rm } from 'node:fs/promises';
import { ok, type Result } from '../shared/result.js';
import { PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
import type { PngFacts } from './png-header.js';
import { abandonSource, type PngSource, readPngStream, uploadErrorToProblem } from './png-stream.js';
import type { ImageProblem } from './problems.js';

/** An upload that passed the header checks and now sits on disk, with what is needed to store and cite it. */
export interface SpooledPng extends PngFacts {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Streams `source` to `destPath` (created exclusively, parent dir must exist), hashing as it goes,
 * and refuses on the first header-level problem — wrong signature, damaged IHDR, dimensions out of
 * range, no way to be transparent, more than `limits.maxBytes` — without reading further: the
 * source is destroyed and the partial file removed. Exists so an upload is judged while it arrives
 * instead of after it was held whole in memory.
 *
 * Resolves with a problem for anything the uploader did, including a failed upload stream (see
 * {@link uploadErrorToProblem}); rejects only for server faults such as an existing `destPath` or a
 * full disk, after removing the file it created.
 */
export async function spoolPng(
  source: PngSource,
  destPath: string,
  limits: PngLimits = PICWISH_PNG_LIMITS,
): Promise<Result<SpooledPng, ImageProblem>> {
  let file: FileHandle;
  try {
    file = await open(destPath, 'wx');
  } catch (error) {
    abandonSource(source);
    throw error;
  }
  let kept = false;
  try {
    const read = await readPngStream(source, limits, (chunk) => writeAll(file, chunk), uploadErrorToProblem);
    if (!read.ok) return read;
    kept = true;
    return ok({ ...read.value, path: destPath });
  } finally {
    await file.close();
    if (!kept) await rm(destPath, { force: true });
  }
}

/** `FileHandle.write` may write less than asked; a spool file must hold every byte that was hashed. */
export async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await file.write(chunk, written, chunk.length - written);
    written += bytesWritten;
  }
}
