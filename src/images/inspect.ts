import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { err, ok, type Result } from '../shared/result.js';
import { fileTooLarge, PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
import { type PngSource, readPngStream, type StreamedPng } from './png-stream.js';
import type { ImageProblem } from './problems.js';
import { type SpooledPng, spoolPng } from './spool.js';
import { checkDecodedTransparency } from './transparency.js';

/**
 * The one call an upload resolver needs: spool with header checks, then the decode check, so an
 * upstream request is only spent on a PNG PicWish will take. On any problem the file is gone.
 */
export async function spoolAndInspectPng(
  source: PngSource,
  destPath: string,
  limits: PngLimits = PICWISH_PNG_LIMITS,
): Promise<Result<SpooledPng, ImageProblem>> {
  const spooled = await spoolPng(source, destPath, limits);
  if (!spooled.ok) return spooled;
  const decoded = await checkDecodedTransparency(destPath, limits);
  if (!decoded.ok) {
    await rm(destPath, { force: true });
    return decoded;
  }
  return spooled;
}

/**
 * The same checks for a PNG that is already a file (downloaded from a URL, or an upstream result),
 * so every image the gateway passes on meets the same rules. The size comes from `stat` first, so an
 * oversized file is refused unread and the message names its exact size. The file is the caller's
 * and is never removed; a missing or unreadable file is a server fault and rejects.
 */
export async function inspectPngFile(
  path: string,
  limits: PngLimits = PICWISH_PNG_LIMITS,
): Promise<Result<StreamedPng, ImageProblem>> {
  const { size } = await stat(path);
  if (size > limits.maxBytes) return err(fileTooLarge(limits, size));
  const read = await readPngStream(createReadStream(path), limits, async () => {}, rethrow);
  if (!read.ok) return read;
  const decoded = await checkDecodedTransparency(path, limits);
  return decoded.ok ? ok(read.value) : decoded;
}

function rethrow(error: unknown): never {
  throw error;
}
