import { err, ok, type Result } from '../shared/result.js';
import {
  checkCanBeTransparent,
  checkDecodeBudget,
  checkDimensions,
  PICWISH_PNG_LIMITS,
  type PngLimits,
} from './limits.js';
import { PngChunkWalker } from './png-chunks.js';
import { type PngDimensions, type PngFacts, PngHeaderScanner } from './png-header.js';
import type { ImageProblem } from './problems.js';
import { type ByteSource, type SpoolObserver, spoolStream } from './spool-stream.js';

/** An upload that passed the header checks and now sits on disk, with what is needed to store and cite it. */
export interface SpooledPng extends PngFacts {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Spools a PNG upload (spool-stream.ts) and refuses on the first header-level problem — wrong
 * signature, damaged IHDR, dimensions out of range, a decode too large for the budget, no way to
 * be transparent — or misplaced chunk, without reading further, so a bad upload costs at most one
 * chunk past the point where it went wrong. Rejects only for server faults, like the spool loop.
 */
export async function spoolPng(
  source: ByteSource,
  destPath: string,
  limits: PngLimits = PICWISH_PNG_LIMITS,
): Promise<Result<SpooledPng, ImageProblem>> {
  const spooled = await spoolStream(source, destPath, limits, pngChecks(limits));
  if (!spooled.ok) return spooled;
  const { observed, ...file } = spooled.value;
  return ok({ ...observed, ...file });
}

/**
 * The PNG checks as the spool loop's observer: the header (png-header.ts) judged as soon as it is
 * complete enough — the dimensions from the IHDR alone — and every chunk walked (png-chunks.ts).
 * Memory is the scanner's 25 bytes and the walker's 8.
 */
function pngChecks(limits: PngLimits): SpoolObserver<PngFacts> {
  const scanner = new PngHeaderScanner();
  const walker = new PngChunkWalker();
  let header: Result<PngFacts, ImageProblem> | 'incomplete' = 'incomplete';
  return {
    onChunk(bytes) {
      if (header === 'incomplete') {
        header = scanner.push(bytes);
        const refusal = judgeHeader(scanner, header, limits);
        if (refusal) return refusal;
      }
      return walker.push(bytes);
    },
    onEnd() {
      const facts = scanner.finish();
      if (!facts.ok) return facts;
      const ending = walker.finish();
      return ending ? err(ending) : facts;
    },
  };
}

function judgeHeader(
  scanner: PngHeaderScanner,
  header: Result<PngFacts, ImageProblem> | 'incomplete',
  limits: PngLimits,
): ImageProblem | undefined {
  if (header !== 'incomplete' && !header.ok) return header.error;
  const dimensions = scanner.dimensions;
  const tooBigOrSmall =
    dimensions &&
    (checkDimensions(dimensions.width, dimensions.height, limits) ??
      checkDecodeBudget(pngDecodeShape(dimensions), limits));
  if (tooBigOrSmall) return tooBigOrSmall;
  return header === 'incomplete' ? undefined : checkCanBeTransparent(header.value);
}

/** Samples per pixel libvips decodes each PNG colour type to (a palette as RGBA, with or without tRNS). */
const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 };

/** What decoding a PNG holds at once, from its IHDR. */
function pngDecodeShape(dimensions: PngDimensions) {
  return {
    format: 'png',
    width: dimensions.width,
    height: dimensions.height,
    channels: PNG_CHANNELS[dimensions.colorType] ?? 4,
    sampleBytes: dimensions.bitDepth === 16 ? 2 : 1,
    progressive: dimensions.interlaced,
  } as const;
}
