import { rm } from 'node:fs/promises';
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
import { type ImageProblem, problem } from './problems.js';
import { type ByteSource, type SpooledStream, type SpoolObserver, spoolStream } from './spool-stream.js';

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
  source: ByteSource,
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
  const written = await spoolStream(source, destPath, { ...limits, maxBytes: intakeBytes }, firstBytes(16));
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
  written: SpooledStream<Buffer>,
  limits: PngLimits,
  fit: boolean,
): Promise<Result<SpooledPhoto, ImageProblem>> {
  if (!fit && written.bytes > limits.maxBytes) return err(fileTooLarge(limits, written.bytes));
  if (written.bytes === 0) return err(problem('EMPTY_FILE', 'The file is empty (0 bytes).'));
  const type = PHOTO_TYPES[sniffImageType(written.observed) ?? ''];
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

/**
 * The photo's observer in the spool loop: it keeps the first bytes, which say the photo's type,
 * and refuses nothing while they arrive, so a photo is judged once it is whole.
 */
function firstBytes(count: number): SpoolObserver<Buffer> {
  let head = Buffer.alloc(0);
  return {
    onChunk(bytes) {
      if (head.length < count) head = Buffer.concat([head, bytes.subarray(0, count - head.length)]);
      return undefined;
    },
    onEnd: () => ok(head),
  };
}
