import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { sniffImageType } from '../outbound/index.js';
import { UNGATED, type WorkSlot } from '../shared/fair-gate.js';
import { err, ok, type Result } from '../shared/result.js';
import { FIT_INTAKE, type FitFormat, fitSpooledImage, type SpooledFile } from './fit.js';
import {
  checkDecodeBudget,
  checkDimensions,
  fileTooLarge,
  PICWISH_PNG_LIMITS,
  type PngLimits,
} from './limits.js';
import { abandonSource, type PngSource, uploadErrorToProblem } from './png-stream.js';
import { type ImageProblem, problem } from './problems.js';
import { writeAll } from './spool.js';

/** The photo formats PicWish's background removal takes, by what their bytes say. */
const PHOTO_TYPES: Readonly<Record<string, { format: FitFormat; contentType: SpooledPhoto['contentType'] }>> =
  {
    jpeg: { format: 'jpeg', contentType: 'image/jpeg' },
    png: { format: 'png', contentType: 'image/png' },
    webp: { format: 'webp', contentType: 'image/webp' },
  };

/** A photo (background still in) on disk, checked and fitted, ready for PicWish's background removal. */
export interface SpooledPhoto extends SpooledFile {
  contentType: 'image/jpeg' | 'image/png' | 'image/webp';
}

/**
 * The intake of a `removeBackground` photo (#14): streamed to `destPath` with the byte cap and a
 * hash, its type taken from the bytes (JPEG, PNG or WebP — never the name or a header), sized
 * (below `limits.minSide` refused), fitted like a foreground when oversized unless `fit` is
 * false (keeping its format), and decoded once in full so a damaged file is refused before a
 * paid call. Transparency is not asked for: removing the background is what the photo is for.
 * On any problem the file is gone.
 */
export async function spoolAndInspectPhoto(
  source: PngSource,
  destPath: string,
  options: {
    readonly limits: PngLimits;
    readonly fit: boolean;
    /** Where the decoding runs once the bytes are in (inspect.ts `decode`). @default at once */
    readonly decode?: WorkSlot;
  },
): Promise<Result<SpooledPhoto, ImageProblem>> {
  const { limits, fit } = options;
  // As for a foreground: when fitting, a file over the configured limit is taken in up to
  // PicWish's own 20 MB and fitted down.
  const intakeBytes = fit ? Math.max(limits.maxBytes, PICWISH_PNG_LIMITS.maxBytes) : limits.maxBytes;
  const written = await spoolBytes(source, destPath, intakeBytes, limits);
  if (!written.ok) return written;
  let checked: Result<SpooledPhoto, ImageProblem>;
  try {
    checked = await (options.decode ?? UNGATED)(() => inspectPhoto(destPath, written.value, limits, fit));
  } catch (error) {
    await rm(destPath, { force: true });
    throw error;
  }
  if (!checked.ok) await rm(destPath, { force: true });
  return checked;
}

async function inspectPhoto(
  path: string,
  written: { bytes: number; sha256: string; head: Buffer },
  limits: PngLimits,
  fit: boolean,
): Promise<Result<SpooledPhoto, ImageProblem>> {
  if (!fit && written.bytes > limits.maxBytes) return err(fileTooLarge(limits, written.bytes));
  if (written.bytes === 0) return err(problem('EMPTY_FILE', 'The file is empty (0 bytes).'));
  const type = PHOTO_TYPES[sniffImageType(written.head) ?? ''];
  if (!type) {
    return err(
      problem(
        'UNSUPPORTED_IMAGE_FORMAT',
        'The photo must be a JPEG, PNG or WebP image (judged by its bytes).',
      ),
    );
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(path, { limitInputPixels: FIT_INTAKE.maxPixels }).metadata();
  } catch {
    return err(problem('CORRUPT_IMAGE', 'The photo cannot be read as the image its bytes announce.'));
  }
  // Checked and fitted as it is shown: an EXIF orientation of 5 to 8 turns it a quarter.
  const { width, height } = metadata.autoOrient;
  const sideLimits = fit ? { ...limits, maxSide: FIT_INTAKE.maxSide } : limits;
  const sides =
    checkDimensions(width, height, sideLimits) ??
    checkDecodeBudget(
      {
        format: type.format,
        width: metadata.width,
        height: metadata.height,
        channels: metadata.channels,
        sampleBytes: metadata.depth === 'ushort' ? 2 : 1,
        progressive: metadata.isProgressive === true,
      },
      limits,
    );
  if (sides) return err(sides);
  const { bytes, sha256 } = written;
  const spooled: SpooledPhoto = { path, width, height, bytes, sha256, contentType: type.contentType };
  const fitted = await fitSpooledImage(spooled, limits, type.format, (metadata.orientation ?? 1) !== 1);
  if (!fitted.ok) return fitted;
  try {
    await sharp(path, { sequentialRead: true, failOn: 'error', limitInputPixels: FIT_INTAKE.maxPixels })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch {
    return err(problem('CORRUPT_IMAGE', 'The photo’s pixel data is damaged or cut short.'));
  }
  return fitted;
}

/** Streams `source` into a new file at `destPath`, hashing; over `maxBytes` it stops and removes it. */
async function spoolBytes(
  source: PngSource,
  destPath: string,
  maxBytes: number,
  limits: PngLimits,
): Promise<Result<{ bytes: number; sha256: string; head: Buffer }, ImageProblem>> {
  const file = await open(destPath, 'wx').catch((error: unknown) => {
    abandonSource(source);
    throw error;
  });
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let kept = false;
  try {
    try {
      for await (const chunk of source) {
        const data = chunk as Buffer;
        bytes += data.length;
        if (bytes > maxBytes) {
          abandonSource(source);
          return err(fileTooLarge({ ...limits, maxBytes }, undefined));
        }
        if (head.length < 16) head = Buffer.concat([head, data.subarray(0, 16 - head.length)]);
        hash.update(data);
        await writeAll(file, data);
      }
    } catch (error) {
      return err(uploadErrorToProblem(error, bytes, limits));
    }
    if ((source as { truncated?: unknown }).truncated === true) return err(fileTooLarge(limits, undefined));
    kept = true;
    return ok({ bytes, sha256: hash.digest('hex'), head });
  } finally {
    await file.close();
    if (!kept) await rm(destPath, { force: true });
  }
}
