import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type PngOptions } from 'sharp';
import { afterAll, beforeAll, expect } from 'vitest';
import type { spoolAndInspectPng } from '../../../src/images/index.js';

/** What the src/images/inspect specs share: PNGs built by hand or by sharp, streams of them, and a spool directory. */

export const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function chunk(type: string, data: Uint8Array = new Uint8Array()): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function ihdr(width: number, height: number, bitDepth = 8, colorType = 6): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.writeUInt8(bitDepth, 8);
  data.writeUInt8(colorType, 9);
  return chunk('IHDR', data);
}

/** A PNG built by hand, for what sharp never writes: tRNS colour keys, chosen 16-bit alpha values. */
export function handmadePng(
  width: number,
  height: number,
  format: { bitDepth: number; colorType: number; bytesPerPixel: number },
  paint: (pixels: Buffer) => void,
  extraChunks: Buffer[] = [],
): Buffer {
  const stride = width * format.bytesPerPixel;
  const pixels = Buffer.alloc(stride * height, 0xff);
  paint(pixels);
  const rows = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(rows, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([
    SIGNATURE,
    ihdr(width, height, format.bitDepth, format.colorType),
    ...extraChunks,
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND'),
  ]);
}

export const RGB8 = { bitDepth: 8, colorType: 2, bytesPerPixel: 3 };
export const RGBA16 = { bitDepth: 16, colorType: 6, bytesPerPixel: 8 };

/** An RGB PNG whose tRNS key is black; `keyed` paints one black pixel, which becomes transparent. */
export function rgbPngWithColourKey(width: number, height: number, keyed: boolean): Buffer {
  const key = chunk('tRNS', Buffer.alloc(6));
  return handmadePng(width, height, RGB8, (pixels) => keyed && pixels.fill(0, 0, 3), [key]);
}

export function transparentPng(width: number, height: number, options: PngOptions = {}): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([
      {
        input: { create: { width: 64, height: 64, channels: 4, background: '#c0392b' } },
        top: 8,
        left: 8,
      },
    ])
    .png({ compressionLevel: 1, ...options })
    .toBuffer();
}

/** Where the first IDAT chunk starts and how long its data is, to cut a file inside its pixels. */
export function firstIdat(png: Buffer): { start: number; length: number } {
  let at = SIGNATURE.length;
  for (;;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') return { start: at, length };
    at += 12 + length;
  }
}

/** A stream that yields `head` and then filler chunks up to `total` bytes, counting what was pulled. */
export function countingStream(head: Buffer, total: number) {
  const counter = { pulled: 0, destroyed: false };
  const filler = Buffer.alloc(64 * 1024, 0x42);
  async function* generate() {
    counter.pulled += head.length;
    yield head;
    while (counter.pulled < total) {
      const piece = filler.subarray(0, Math.min(filler.length, total - counter.pulled));
      counter.pulled += piece.length;
      yield piece;
    }
  }
  const stream = Readable.from(generate(), { objectMode: false, highWaterMark: 64 * 1024 });
  stream.on('close', () => {
    counter.destroyed = stream.destroyed;
  });
  return { stream, counter };
}

export function streamOf(bytes: Buffer, pieceSize = 16 * 1024): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize) pieces.push(bytes.subarray(at, at + pieceSize));
  return Readable.from(pieces, { objectMode: false });
}

/** The spool directory of the running file (set by `usePngSamples`). */
/** What the header of `fixtures.transparent` (a 300×300 RGBA PNG) reads as. */
export const TRANSPARENT_HEADER = {
  width: 300,
  height: 300,
  bitDepth: 8,
  colorType: 6,
  interlaced: false,
  hasAlpha: true,
  hasTrns: false,
} as const;

export let dir: string;
let caseNumber = 0;
/** Sample images, built once per file by `usePngSamples`. */
export const fixtures = {} as Record<
  'transparent' | 'palette' | 'rgb' | 'opaque' | 'small' | 'wide' | 'jpeg' | 'rgba16' | 'opaque16' | 'grey',
  Buffer
>;

/** Builds the sample images and a spool directory before the file's tests, and removes it after them. */
export function usePngSamples(): void {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'images-test-'));
    const opaqueCanvas = { width: 300, height: 300, background: { r: 10, g: 200, b: 30, alpha: 1 } };
    fixtures.transparent = await transparentPng(300, 300);
    fixtures.palette = await transparentPng(300, 300, { palette: true });
    fixtures.rgb = await sharp({ create: { ...opaqueCanvas, channels: 3 } })
      .png()
      .toBuffer();
    fixtures.opaque = await sharp({ create: { ...opaqueCanvas, channels: 4 } })
      .png()
      .toBuffer();
    fixtures.small = await transparentPng(255, 300);
    fixtures.wide = await transparentPng(4097, 300);
    fixtures.jpeg = await sharp({ create: { ...opaqueCanvas, channels: 3 } })
      .jpeg()
      .toBuffer();
    fixtures.rgba16 = await sharp(fixtures.transparent).toColourspace('rgb16').png().toBuffer();
    fixtures.opaque16 = await sharp(fixtures.opaque).toColourspace('rgb16').png().toBuffer();
    fixtures.grey = await sharp(fixtures.transparent).toColourspace('b-w').png().toBuffer();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}

export function destination(): string {
  caseNumber += 1;
  return join(dir, `upload-${caseNumber}.png`);
}

export async function spooledFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('upload-'));
}

export async function expectProblem(
  result: Awaited<ReturnType<typeof spoolAndInspectPng>>,
  reason: string,
  path: string,
): Promise<string> {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected a problem');
  expect(result.error.reason).toBe(reason);
  expect(await spooledFiles()).not.toContain(path.slice(dir.length + 1));
  return result.error.message;
}
