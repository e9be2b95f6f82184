import { rm } from 'node:fs/promises';
import { UNGATED, type WorkSlot } from '../shared/fair-gate.js';
import { err, type Result } from '../shared/result.js';
import { FIT_INTAKE, fitSpooledImage } from './fit.js';
import { PICWISH_PNG_LIMITS, type PngLimits } from './limits.js';
import { type SpooledPng, spoolPng } from './png-spool.js';
import type { ImageProblem } from './problems.js';
import type { ByteSource } from './spool-stream.js';
import { checkDecodedTransparency } from './transparency.js';

/** How an input is judged: the limits PicWish sets, and whether an oversized one is fitted (#14). */
export interface InspectOptions {
  /** @default PICWISH_PNG_LIMITS */
  readonly limits?: PngLimits;
  /** Downscale instead of refusing IMAGE_TOO_LARGE / FILE_TOO_LARGE. @default true */
  readonly fit?: boolean;
  /** The most bytes accepted on the way in when fitting. @default PICWISH_PNG_LIMITS.maxBytes */
  readonly intakeBytes?: number;
  /**
   * Where the decoding steps (fitting, the transparency check) run, once the bytes are in: the
   * caller's fair share of the process's image work (#27). @default at once
   */
  readonly decode?: WorkSlot;
}

/**
 * The one call an upload resolver needs: spool with header checks, fit an oversized image, then the
 * decode check, so an upstream request is only spent on a PNG PicWish will take. On any problem
 * the file is gone.
 */
export async function spoolAndInspectPng(
  source: ByteSource,
  destPath: string,
  options: InspectOptions = {},
): Promise<Result<SpooledPng, ImageProblem>> {
  const limits = options.limits ?? PICWISH_PNG_LIMITS;
  const fit = options.fit ?? true;
  const intake: PngLimits = fit
    ? {
        ...limits,
        maxSide: FIT_INTAKE.maxSide,
        maxBytes: Math.max(limits.maxBytes, options.intakeBytes ?? PICWISH_PNG_LIMITS.maxBytes),
      }
    : limits;
  const spooled = await spoolPng(source, destPath, intake);
  if (!spooled.ok) return spooled;
  try {
    return await (options.decode ?? UNGATED)(async () => {
      const fitted = fit ? await fitSpooledImage(spooled.value, limits) : spooled;
      if (!fitted.ok) {
        await rm(destPath, { force: true });
        return fitted;
      }
      const decoded = await checkDecodedTransparency(destPath, limits);
      if (!decoded.ok) {
        await rm(destPath, { force: true });
        return err(decoded.error);
      }
      return fitted;
    });
  } catch (error) {
    // Abandoned before its turn (or broken): the spooled file must not stay behind.
    await rm(destPath, { force: true });
    throw error;
  }
}
