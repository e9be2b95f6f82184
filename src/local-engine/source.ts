import sharp from 'sharp';
import { err, ok, type Result } from '../shared/result.js';

/**
 * Checking the source image, with PicWish's limits. Failures are task states, not
 * HTTP errors, because PicWish accepts the task first and reports a bad image asynchronously.
 */

/** PicWish's upload limit for a source image. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** PicWish's largest accepted side. */
const MAX_IMAGE_SIDE = 4096;
/** The task state a source problem ends in: -5 too large, -7 not a valid PNG. */
export type SourceFailure = -5 | -7;

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
