import { rm } from 'node:fs/promises';
import type { Result } from '../shared/result.js';
import { PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
import type { PngSource } from './png-stream.js';
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
