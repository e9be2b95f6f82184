import { stat } from 'node:fs/promises';
import sharp, { type SharpOptions } from 'sharp';
import { err, ok, type Result } from '../shared/result.js';
import { PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
import { type ImageProblem, problem, REMOVE_BACKGROUND_HINT } from './problems.js';

/**
 * Full decode check of a spooled file: the header can promise transparency (alpha channel, tRNS)
 * but only the pixels show whether any is used, and only a decode finds a truncated or garbled IDAT.
 * CORRUPT_IMAGE when libvips cannot decode it, NO_TRANSPARENT_PIXEL when every alpha sample is at
 * its maximum, EMPTY_FOREGROUND when every one is zero (nothing to put a background behind). Runs one decode in bounded memory: sequential read, at most `maxSide²` pixels, and
 * only the alpha band is kept (measured: about 30 MB above baseline for 4096×4096 RGBA, where
 * sharp's `stats()` held about 90 MB and took four times as long). Rejects only when `path` is missing.
 * `path` may also be the bytes themselves: a cutout from PicWish is checked the same way (#14).
 */
export async function checkDecodedTransparency(
  path: string | Uint8Array,
  limits: PngLimits = PICWISH_PNG_LIMITS,
): Promise<Result<void, ImageProblem>> {
  const options: SharpOptions = {
    sequentialRead: true,
    limitInputPixels: limits.maxSide * limits.maxSide,
    // 'error' rather than the default 'warning': truncated or broken pixel data is refused, but a
    // harmless warning (a non-conforming ICC profile, say) does not turn a good upload away.
    failOn: 'error',
  };
  // A missing file is a fault of the caller, not of the uploader: let it reject, not read as corrupt.
  if (typeof path === 'string') await stat(path);
  try {
    const metadata = await sharp(path, options).metadata();
    if (metadata.format !== 'png') {
      return err(
        problem(
          'NOT_PNG',
          `The file is not a PNG (libvips reads it as ${metadata.format}); the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
        ),
      );
    }
    if (!metadata.hasAlpha) {
      return err(
        problem(
          'NOT_TRANSPARENT',
          `The PNG decodes to ${metadata.channels} channel(s) without alpha; the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
        ),
      );
    }
    // sharp converts to 8-bit sRGB on output unless told otherwise, which would round a 16-bit alpha
    // of 65534 up to 255: keep 16-bit samples 16-bit, and 8-bit ones at their smaller size.
    const sixteenBit = metadata.depth === 'ushort';
    const alphaBand = sharp(path, options).extractChannel(metadata.channels === 2 ? 1 : 3);
    const alpha = await (sixteenBit ? alphaBand.toColourspace('grey16') : alphaBand)
      .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
      .toBuffer();
    if (!hasTransparentSample(alpha)) return err(fullyOpaque(sixteenBit ? 0xffff : 0xff));
    return hasVisibleSample(alpha)
      ? ok(undefined)
      : err(problem('EMPTY_FOREGROUND', 'Every pixel is fully transparent; there is no foreground to keep.'));
  } catch (error) {
    const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    const detail = (typeof path === 'string' ? firstLine.replaceAll(path, 'the file') : firstLine).replace(
      /[\s:]+$/,
      '',
    );
    return err(problem('CORRUPT_IMAGE', `The image data cannot be decoded (${detail}).`));
  }
}

/**
 * A sample is below the maximum exactly when one of its bytes is not 0xFF, for 8-bit and for 16-bit
 * samples alike and whatever their byte order, so one byte scan serves every PNG bit depth.
 */
function hasTransparentSample(alpha: Uint8Array): boolean {
  for (let index = 0; index < alpha.length; index++) {
    if (alpha[index] !== 0xff) return true;
  }
  return false;
}

/** A sample is above zero exactly when one of its bytes is, for every bit depth and byte order. */
function hasVisibleSample(alpha: Uint8Array): boolean {
  for (let index = 0; index < alpha.length; index++) {
    if (alpha[index] !== 0) return true;
  }
  return false;
}

function fullyOpaque(maxAlpha: number): ImageProblem {
  return problem(
    'NO_TRANSPARENT_PIXEL',
    `Every pixel is fully opaque (the lowest alpha is ${maxAlpha} of ${maxAlpha}); at least one pixel must be transparent. ${REMOVE_BACKGROUND_HINT}`,
  );
}
