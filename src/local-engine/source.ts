import sharp from 'sharp';
import { type Dispatcher, fetch } from 'undici';
import { err, ok, type Result } from '../shared/result.js';

/**
 * Getting and checking the source image, with PicWish's limits. Failures are task states, not
 * HTTP errors, because PicWish accepts the task first and reports a bad image asynchronously.
 */

/** PicWish's upload limit for a source image. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** PicWish's largest accepted side. */
const MAX_IMAGE_SIDE = 4096;
/** How long the engine waits for an image_url before calling it undownloadable. */
export const DOWNLOAD_TIMEOUT_MS = 10_000;

/** The task state a source problem ends in: -3 not downloadable, -5 too large, -7 not a valid PNG. */
export type SourceFailure = -3 | -5 | -7;

/** Downloads an image_url, stopping early once it exceeds the size limit. */
export async function downloadSource(
  url: string,
  dispatcher: Dispatcher,
  signal: AbortSignal,
): Promise<Result<Buffer, SourceFailure>> {
  const abort = AbortSignal.any([signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
  try {
    const response = await fetch(url, { dispatcher, signal: abort, redirect: 'follow' });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return err(-3);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      // Leaving the loop cancels the stream, so an oversized download stops here.
      if (total > MAX_IMAGE_BYTES) return err(-5);
      chunks.push(chunk);
    }
    return ok(Buffer.concat(chunks));
  } catch {
    return err(-3);
  }
}

/** Checks format and limits from the header alone, before any pixel is decoded. */
export async function inspectSource(
  bytes: Buffer,
): Promise<Result<{ width: number; height: number }, SourceFailure>> {
  if (bytes.byteLength > MAX_IMAGE_BYTES) return err(-5);
  try {
    const meta = await sharp(bytes).metadata();
    if (meta.format !== 'png' || !meta.width || !meta.height) return err(-7);
    if (meta.width > MAX_IMAGE_SIDE || meta.height > MAX_IMAGE_SIDE) return err(-5);
    return ok({ width: meta.width, height: meta.height });
  } catch {
    return err(-7);
  }
}
