import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { err, ok, type Result } from '../shared/result.js';
import type { PngLimits } from './limits.js';
import { type ImageProblem, problem } from './problems.js';

/** What fitting needs of a spooled file, PNG or photo. */
export interface SpooledFile {
  path: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

/** Encodings a fitted file keeps: a PNG stays a PNG (alpha kept), a photo keeps its format. */
export type FitFormat = 'png' | 'jpeg' | 'webp';

/**
 * What a spooled PNG may be before it is fitted (#14): phone shots of 6000 px and more are
 * accepted, up to a side and a pixel count that bound the decode (sharp streams the file with a
 * sequential read; memory stays a few rows, not the whole image).
 */
export const FIT_INTAKE = Object.freeze({ maxSide: 12_000, maxPixels: 100_000_000 });

/** Re-encodes at most this many times while the PNG is still over the byte limit. */
const BYTE_ATTEMPTS = 4;

/**
 * Downscales a spooled image in place so PicWish takes it: each side at most `target.maxSide` and
 * the file at most `target.maxBytes`, keeping the aspect ratio and the alpha channel (re-encoded
 * in `format`: PNG for foregrounds, the photo's own format for a `removeBackground` photo).
 * Exists so an oversized image is fitted rather than refused. One already within the limits is
 * returned untouched (unless `turned`); one that would end below `target.minSide` is IMAGE_TOO_SMALL.
 */
export async function fitSpooledImage<T extends SpooledFile>(
  spooled: T,
  target: PngLimits,
  format: FitFormat = 'png',
  /** The file carries an EXIF orientation other than upright: it is rewritten turned upright. */
  turned = false,
): Promise<Result<T, ImageProblem>> {
  const { width, height, bytes } = spooled;
  const within = width <= target.maxSide && height <= target.maxSide && bytes <= target.maxBytes;
  if (within && !turned) return ok(spooled);
  let scale = Math.min(1, target.maxSide / width, target.maxSide / height);
  const temp = `${spooled.path}.fit`;
  try {
    for (let attempt = 0; attempt < BYTE_ATTEMPTS; attempt++) {
      const w = Math.floor(width * scale);
      const h = Math.floor(height * scale);
      if (w < target.minSide || h < target.minSide) {
        return err(
          problem(
            'IMAGE_TOO_SMALL',
            `The image is ${width}×${height} px; fitted within ${target.maxSide} px and ${target.maxBytes} bytes it would be ${w}×${h} px, below ${target.minSide} px.`,
          ),
        );
      }
      await sharp(spooled.path, {
        sequentialRead: true,
        limitInputPixels: FIT_INTAKE.maxPixels,
        failOn: 'error',
      })
        // Turned upright first: `width` and `height` are the image as shown, not as stored.
        .autoOrient()
        .resize(w, h, { fit: 'fill' })
        .toFormat(format, ENCODINGS[format])
        .toFile(temp);
      const size = (await stat(temp)).size;
      if (size <= target.maxBytes) {
        await rename(temp, spooled.path);
        return ok({ ...spooled, width: w, height: h, bytes: size, sha256: await sha256Of(spooled.path) });
      }
      scale *= Math.sqrt(target.maxBytes / size) * 0.9;
    }
    return err(problem('FILE_TOO_LARGE', `The image stays over ${target.maxBytes} bytes even downscaled.`));
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    return err(
      problem(
        'CORRUPT_IMAGE',
        `The image cannot be fitted (${detail.replaceAll(spooled.path, 'the file')}).`,
      ),
    );
  } finally {
    await rm(temp, { force: true });
  }
}

/** PNG as small as it gets; photos at a quality nobody tells from the original. */
const ENCODINGS: Readonly<Record<FitFormat, Record<string, number>>> = {
  png: { compressionLevel: 9 },
  jpeg: { quality: 90 },
  webp: { quality: 90 },
};

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
