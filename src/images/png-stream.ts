import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { err, ok, type Result } from '../shared/result.js';
import {
  checkCanBeTransparent,
  checkDecodeBudget,
  checkDimensions,
  fileTooLarge,
  type PngLimits,
} from './limits.js';
import { PngChunkWalker } from './png-chunks.js';
import { type PngDimensions, type PngFacts, PngHeaderScanner } from './png-header.js';
import { type ImageProblem, problem } from './problems.js';

/** A stream of PNG bytes: graphql-upload-minimal hands resolvers a `Readable`, files give one too. */
export type PngSource = Readable | NodeJS.ReadableStream;

/** What one pass over a PNG stream learned: the header facts plus the size and digest of every byte. */
export interface StreamedPng extends PngFacts {
  bytes: number;
  sha256: string;
}

/** Where accepted bytes go; awaited before the next chunk is pulled, so a slow disk slows the upload. */
export type ChunkSink = (chunk: Uint8Array) => Promise<void>;

/**
 * Maps an error raised by the source stream to a problem, or rethrows it: an upload error is the
 * client's doing, a read error on our own file is not.
 */
export type SourceErrorPolicy = (error: unknown, bytesRead: number, limits: PngLimits) => ImageProblem;

/**
 * One pass over a PNG stream that hashes, counts and judges the header as the bytes arrive, and
 * stops pulling (destroying the source) on the first problem, so a bad upload costs at most one
 * chunk past the point where it went wrong. Memory is one chunk plus the scanner's 25 bytes.
 */
export async function readPngStream(
  source: PngSource,
  limits: PngLimits,
  sink: ChunkSink,
  onSourceError: SourceErrorPolicy,
): Promise<Result<StreamedPng, ImageProblem>> {
  const scanner = new PngHeaderScanner();
  const hash = createHash('sha256');
  const chunks = source[Symbol.asyncIterator]();
  let bytes = 0;
  let header: Result<PngFacts, ImageProblem> | 'incomplete' = 'incomplete';
  let settled = false;
  const walker = new PngChunkWalker();
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (error) {
        return err(onSourceError(error, bytes, limits));
      }
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError('A PNG source must yield bytes; was an encoding set on the stream?');
      }
      if (header === 'incomplete') {
        header = scanner.push(chunk);
        const refusal = judgeHeader(scanner, header, limits);
        if (refusal) return err(refusal);
      }
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return err(fileTooLarge(limits, undefined));
      const misplaced = walker.push(chunk);
      if (misplaced) return err(misplaced);
      hash.update(chunk);
      await sink(chunk);
    }
    if (isTruncatedUpload(source)) return err(fileTooLarge(limits, undefined));
    const facts = scanner.finish();
    if (!facts.ok) return facts;
    const ending = walker.finish();
    if (ending) return err(ending);
    settled = true;
    return ok({ ...facts.value, bytes, sha256: hash.digest('hex') });
  } finally {
    if (!settled) abandonSource(source);
  }
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
export function pngDecodeShape(dimensions: PngDimensions) {
  return {
    format: 'png',
    width: dimensions.width,
    height: dimensions.height,
    channels: PNG_CHANNELS[dimensions.colorType] ?? 4,
    sampleBytes: dimensions.bitDepth === 16 ? 2 : 1,
    progressive: dimensions.interlaced,
  } as const;
}

/**
 * busboy (under graphql-upload-minimal) ends a file stream normally when it hits `maxFileSize` and
 * only marks it `truncated`; without this the cut-off file would pass as a short one.
 */
function isTruncatedUpload(source: PngSource): boolean {
  return (source as { truncated?: unknown }).truncated === true;
}

/**
 * Stops a source nobody will read any more, so the upload does not stall the request. The late-error
 * listener is there because the client or the multipart parser may still fail the stream after we
 * walked away, and an unheard 'error' would crash the process.
 */
export function abandonSource(source: PngSource): void {
  source.on('error', () => {});
  const destroy = (source as { destroy?: unknown }).destroy;
  if (typeof destroy === 'function') destroy.call(source);
}

/**
 * The policy for uploads: graphql-upload-minimal fails the stream with an HTTP 413 error ("File
 * truncated as it exceeds the … byte size limit") when the multipart limit is hit, which is
 * FILE_TOO_LARGE; any other stream error (client abort, broken connection) leaves an incomplete
 * file, reported as CORRUPT_IMAGE "upload was interrupted" so the client knows to send it again.
 */
export function uploadErrorToProblem(error: unknown, bytesRead: number, limits: PngLimits): ImageProblem {
  if (saysLimitExceeded(error)) return fileTooLarge(limits, undefined);
  return problem(
    'CORRUPT_IMAGE',
    `The upload was interrupted after ${bytesRead} bytes, so the file is incomplete; please send it again.`,
  );
}

function saysLimitExceeded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, statusCode, message } = error as {
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
  };
  if (status === 413 || statusCode === 413) return true;
  return typeof message === 'string' && /exceeds? .*limit|too large/i.test(message);
}
