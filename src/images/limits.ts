import type { PngFacts } from './png-header.js';
import { type ImageProblem, problem, REMOVE_BACKGROUND_HINT } from './problems.js';

/** The size rules an input must meet; a parameter so tests and other upstreams can use smaller ones. */
export interface PngLimits {
  maxBytes: number;
  minSide: number;
  maxSide: number;
  /**
   * The most memory one decode may take when the image cannot be decoded row by row (an
   * interlaced PNG, a progressive JPEG, a WebP): those are refused above it, before any decode.
   * @default DECODE_BUDGET_BYTES
   */
  maxDecodeBytes?: number;
}

/** `IMAGE_DECODE_BUDGET_MB`'s default: 128 MiB, a 4096×4096 RGBA image twice over. */
export const DECODE_BUDGET_BYTES = 128 * 1024 * 1024;

/** What a decoder must hold at once for an image, as far as its header tells. */
export interface DecodeShape {
  readonly format: 'png' | 'jpeg' | 'webp';
  readonly width: number;
  readonly height: number;
  /** Decoded samples per pixel. */
  readonly channels: number;
  /** Bytes per decoded sample: 2 for 16-bit PNGs. */
  readonly sampleBytes: number;
  /** An interlaced PNG or a progressive JPEG. */
  readonly progressive: boolean;
}

/**
 * The memory a decode of `shape` holds at once. A baseline JPEG or a plain PNG is decoded a few
 * rows at a time (sharp's sequential read), so its size alone is bounded by the pixel limit; an
 * interlaced PNG is decoded whole, a progressive JPEG keeps every DCT coefficient (2 bytes per
 * sample), and libvips decodes a WebP frame whole.
 */
export function decodeBytes(shape: DecodeShape): number {
  const pixels = shape.width * shape.height;
  if (shape.format === 'webp') return pixels * shape.channels;
  if (!shape.progressive) return 0;
  return pixels * shape.channels * (shape.format === 'jpeg' ? 2 : shape.sampleBytes);
}

/**
 * IMAGE_TOO_LARGE for an image whose decode would take more than the budget, before any decode
 * starts, with what to send instead.
 */
export function checkDecodeBudget(shape: DecodeShape, limits: PngLimits): ImageProblem | undefined {
  const budget = limits.maxDecodeBytes ?? DECODE_BUDGET_BYTES;
  const needed = decodeBytes(shape);
  if (needed <= budget) return undefined;
  const what =
    shape.format === 'webp' ? 'WebP image' : shape.format === 'png' ? 'interlaced PNG' : 'progressive JPEG';
  const mb = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
  const fix =
    shape.format === 'webp'
      ? 'send it smaller or as PNG or JPEG'
      : `save it ${shape.format === 'png' ? 'non-interlaced' : 'as a baseline (non-progressive) JPEG'}, or smaller`;
  return problem(
    'IMAGE_TOO_LARGE',
    `The ${what} is ${shape.width}×${shape.height} px: decoding it would take ${mb(needed)} MB at once, over the ${mb(budget)} MB budget; ${fix}.`,
  );
}

/** What PicWish's Generate Background API accepts: each side 256..4096 px, at most 20 MB. */
export const PICWISH_PNG_LIMITS: Readonly<PngLimits> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  minSide: 256,
  maxSide: 4096,
});

/**
 * Refuses out-of-range dimensions from the header alone, so a decompression bomb is never decoded.
 * Too large wins over too small when both apply, because that is the side that protects the server.
 */
export function checkDimensions(width: number, height: number, limits: PngLimits): ImageProblem | undefined {
  if (width > limits.maxSide || height > limits.maxSide) {
    return problem(
      'IMAGE_TOO_LARGE',
      `The image is ${width}×${height} px; each side must be at most ${limits.maxSide} px.`,
    );
  }
  if (width < limits.minSide || height < limits.minSide) {
    return problem(
      'IMAGE_TOO_SMALL',
      `The image is ${width}×${height} px; each side must be at least ${limits.minSide} px.`,
    );
  }
  return undefined;
}

/** Names for the colour types that can lack alpha, the only ones a NOT_TRANSPARENT message mentions. */
const OPAQUE_COLOR_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'greyscale', 2: 'RGB', 3: 'palette' };

/**
 * Refuses a PNG that cannot hold transparency at all, which the header already tells us, so the
 * upload stops before the pixel data arrives.
 */
export function checkCanBeTransparent(facts: PngFacts): ImageProblem | undefined {
  if (facts.hasAlpha) return undefined;
  const kind = OPAQUE_COLOR_TYPE_NAMES[facts.colorType] ?? `colour type ${facts.colorType}`;
  return problem(
    'NOT_TRANSPARENT',
    `The PNG is ${kind} without an alpha channel or a tRNS chunk; the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
  );
}

/** Renders a byte count the way the limit is advertised ("20 MB"), keeping the exact count beside it. */
function describeBytes(bytes: number): string {
  const megabytes = Math.round((bytes / (1024 * 1024)) * 100) / 100;
  return `${megabytes} MB (${bytes} bytes)`;
}

/** The FILE_TOO_LARGE problem; `actual` is undefined when reading stopped before the real size was known. */
export function fileTooLarge(limits: PngLimits, actual: number | undefined): ImageProblem {
  const limit = describeBytes(limits.maxBytes);
  return problem(
    'FILE_TOO_LARGE',
    actual === undefined
      ? `The file is larger than the ${limit} limit.`
      : `The file is ${describeBytes(actual)}; the limit is ${limit}.`,
  );
}
