import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type PngOptions } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDecodedTransparency,
  PICWISH_PNG_LIMITS,
  type PngLimits,
  REMOVE_BACKGROUND_HINT,
  readPngHeader,
  spoolAndInspectPng,
  spoolPng,
} from '../../../src/images/index.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array = new Uint8Array()): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function ihdr(width: number, height: number, bitDepth = 8, colorType = 6): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.writeUInt8(bitDepth, 8);
  data.writeUInt8(colorType, 9);
  return chunk('IHDR', data);
}

/** A PNG built by hand, for what sharp never writes: tRNS colour keys, chosen 16-bit alpha values. */
function handmadePng(
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

const RGB8 = { bitDepth: 8, colorType: 2, bytesPerPixel: 3 };
const RGBA16 = { bitDepth: 16, colorType: 6, bytesPerPixel: 8 };

/** An RGB PNG whose tRNS key is black; `keyed` paints one black pixel, which becomes transparent. */
function rgbPngWithColourKey(width: number, height: number, keyed: boolean): Buffer {
  const key = chunk('tRNS', Buffer.alloc(6));
  return handmadePng(width, height, RGB8, (pixels) => keyed && pixels.fill(0, 0, 3), [key]);
}

function transparentPng(width: number, height: number, options: PngOptions = {}): Promise<Buffer> {
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
function firstIdat(png: Buffer): { start: number; length: number } {
  let at = SIGNATURE.length;
  for (;;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') return { start: at, length };
    at += 12 + length;
  }
}

/** A stream that yields `head` and then filler chunks up to `total` bytes, counting what was pulled. */
function countingStream(head: Buffer, total: number) {
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

function streamOf(bytes: Buffer, pieceSize = 16 * 1024): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize) pieces.push(bytes.subarray(at, at + pieceSize));
  return Readable.from(pieces, { objectMode: false });
}

let dir: string;
let caseNumber = 0;
const fixtures = {} as Record<
  'transparent' | 'palette' | 'rgb' | 'opaque' | 'small' | 'wide' | 'jpeg' | 'rgba16' | 'opaque16' | 'grey',
  Buffer
>;

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

function destination(): string {
  caseNumber += 1;
  return join(dir, `upload-${caseNumber}.png`);
}

async function spooledFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('upload-'));
}

async function expectProblem(
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

describe('readPngHeader', () => {
  it('reads size, colour type and alpha from an RGBA PNG', () => {
    expect(readPngHeader(fixtures.transparent)).toEqual({
      ok: true,
      value: {
        width: 300,
        height: 300,
        bitDepth: 8,
        colorType: 6,
        interlaced: false,
        hasAlpha: true,
        hasTrns: false,
      },
    });
  });

  it('counts a palette PNG with a tRNS chunk as having alpha', () => {
    const header = readPngHeader(fixtures.palette);
    expect(header).toMatchObject({ ok: true, value: { colorType: 3, hasTrns: true, hasAlpha: true } });
  });

  it('reports an RGB PNG without tRNS as having no alpha', () => {
    expect(readPngHeader(fixtures.rgb)).toMatchObject({ ok: true, value: { colorType: 2, hasAlpha: false } });
  });

  it('asks for more bytes until the first IDAT chunk header has arrived', () => {
    const idat = firstIdat(fixtures.palette).start;
    for (const length of [0, 1, 7, 8, 20, 32, 33, idat, idat + 7]) {
      expect(readPngHeader(fixtures.palette.subarray(0, length))).toBe('incomplete');
    }
    expect(readPngHeader(fixtures.palette.subarray(0, idat + 8))).toEqual(readPngHeader(fixtures.palette));
  });

  it('refuses a JPEG from its first bytes and says what it looks like', () => {
    for (const length of [1, 3, fixtures.jpeg.length]) {
      const header = readPngHeader(fixtures.jpeg.subarray(0, length));
      expect(header).toMatchObject({ ok: false, error: { reason: 'NOT_PNG' } });
      if (header !== 'incomplete' && !header.ok) expect(header.error.message).toContain('JPEG');
    }
  });

  it('reads a forged 5000×5000 IHDR without looking at any pixel data', () => {
    const forged = Buffer.concat([SIGNATURE, ihdr(5000, 5000), chunk('IDAT')]);
    expect(readPngHeader(forged)).toMatchObject({ ok: true, value: { width: 5000, height: 5000 } });
  });

  it.each([
    ['a wrong IHDR checksum', Buffer.concat([SIGNATURE, ihdr(300, 300).fill(0, 21), chunk('IDAT')])],
    [
      'a chunk other than IHDR first',
      Buffer.concat([SIGNATURE, chunk('tEXt', Buffer.alloc(13)), chunk('IDAT')]),
    ],
    [
      'an invalid bit depth for the colour type',
      Buffer.concat([SIGNATURE, ihdr(300, 300, 4, 6), chunk('IDAT')]),
    ],
    ['a zero width', Buffer.concat([SIGNATURE, ihdr(0, 300), chunk('IDAT')])],
    ['IEND before any IDAT', Buffer.concat([SIGNATURE, ihdr(300, 300), chunk('IEND')])],
  ])('calls a header with %s corrupt', (_name, bytes) => {
    expect(readPngHeader(bytes)).toMatchObject({ ok: false, error: { reason: 'CORRUPT_IMAGE' } });
  });
});

describe('spoolAndInspectPng', () => {
  it('accepts a transparent RGBA PNG and spools exactly its bytes with their SHA-256', async () => {
    const path = destination();
    const result = await spoolAndInspectPng(streamOf(fixtures.transparent, 1000), path);
    expect(result).toEqual({
      ok: true,
      value: {
        path,
        bytes: fixtures.transparent.length,
        sha256: createHash('sha256').update(fixtures.transparent).digest('hex'),
        width: 300,
        height: 300,
        bitDepth: 8,
        colorType: 6,
        interlaced: false,
        hasAlpha: true,
        hasTrns: false,
      },
    });
    expect(await readFile(path)).toEqual(fixtures.transparent);
  });

  it.each([
    ['palette + tRNS', 'palette'],
    ['16-bit RGBA', 'rgba16'],
    ['greyscale + alpha', 'grey'],
  ] as const)('accepts a transparent %s PNG', async (_name, fixture) => {
    const result = await spoolAndInspectPng(streamOf(fixtures[fixture]), destination());
    expect(result.ok).toBe(true);
  });

  it('accepts an RGB PNG whose tRNS colour key matches a pixel', async () => {
    const result = await spoolAndInspectPng(streamOf(rgbPngWithColourKey(256, 256, true)), destination());
    expect(result).toMatchObject({ ok: true, value: { colorType: 2, hasTrns: true, hasAlpha: true } });
  });

  it('accepts both limits exactly: 256×256 and 4096×4096', async () => {
    for (const side of [256, 4096]) {
      const result = await spoolAndInspectPng(streamOf(await transparentPng(side, side)), destination());
      expect(result).toMatchObject({ ok: true, value: { width: side, height: side } });
    }
  });

  it('refuses an RGB PNG without alpha as NOT_TRANSPARENT', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.rgb), path),
      'NOT_TRANSPARENT',
      path,
    );
    expect(message).toBe(
      `The PNG is RGB without an alpha channel or a tRNS chunk; the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
    );
  });

  it('refuses a fully opaque RGBA PNG as NO_TRANSPARENT_PIXEL', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.opaque), path),
      'NO_TRANSPARENT_PIXEL',
      path,
    );
    expect(message).toBe(
      `Every pixel is fully opaque (the lowest alpha is 255 of 255); at least one pixel must be transparent. ${REMOVE_BACKGROUND_HINT}`,
    );
  });

  it('refuses a fully opaque 16-bit RGBA PNG as NO_TRANSPARENT_PIXEL, naming 65535', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.opaque16), path),
      'NO_TRANSPARENT_PIXEL',
      path,
    );
    expect(message).toContain('the lowest alpha is 65535 of 65535');
  });

  it('counts a single 16-bit alpha sample of 65534 as a transparent pixel', async () => {
    const almostOpaque = handmadePng(256, 256, RGBA16, (pixels) => pixels.writeUInt16BE(65534, 6 + 8 * 1000));
    expect((await spoolAndInspectPng(streamOf(almostOpaque), destination())).ok).toBe(true);
    const opaque = handmadePng(256, 256, RGBA16, () => {});
    const path = destination();
    await expectProblem(await spoolAndInspectPng(streamOf(opaque), path), 'NO_TRANSPARENT_PIXEL', path);
  });

  it('refuses an RGB PNG whose tRNS colour key matches no pixel as NO_TRANSPARENT_PIXEL', async () => {
    const path = destination();
    const source = streamOf(rgbPngWithColourKey(256, 256, false));
    await expectProblem(await spoolAndInspectPng(source, path), 'NO_TRANSPARENT_PIXEL', path);
  });

  it('refuses 255×300 as IMAGE_TOO_SMALL, naming the limit and the size', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.small), path),
      'IMAGE_TOO_SMALL',
      path,
    );
    expect(message).toBe('The image is 255×300 px; each side must be at least 256 px.');
  });

  it('refuses 4097×300 as IMAGE_TOO_LARGE from the header', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolPng(streamOf(fixtures.wide), path),
      'IMAGE_TOO_LARGE',
      path,
    );
    expect(message).toBe('The image is 4097×300 px; each side must be at most 4096 px.');
  });

  it('refuses a forged 5000×5000 header before decoding, after reading only the first chunk', async () => {
    const head = Buffer.concat([SIGNATURE, ihdr(5000, 5000), chunk('IDAT', Buffer.alloc(100))]);
    const { stream, counter } = countingStream(head, 30 * 1024 * 1024);
    const path = destination();
    await expectProblem(await spoolAndInspectPng(stream, path, { fit: false }), 'IMAGE_TOO_LARGE', path);
    expect(counter.pulled).toBeLessThan(2 * 1024 * 1024);
    expect(stream.destroyed).toBe(true);
  });

  it('refuses a JPEG as NOT_PNG without reading the rest of a large upload', async () => {
    const { stream, counter } = countingStream(fixtures.jpeg.subarray(0, 100), 20 * 1024 * 1024);
    const path = destination();
    const message = await expectProblem(await spoolAndInspectPng(stream, path), 'NOT_PNG', path);
    expect(message).toBe(
      `The file is not a PNG (it looks like a JPEG); the foreground must be a transparent PNG. ${REMOVE_BACKGROUND_HINT}`,
    );
    expect(message).toMatch(
      /removeBackground: true.*JPEG, PNG or WebP|JPEG, PNG or WebP.*removeBackground: true/,
    );
    expect(counter.pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it('refuses a PNG cut in the middle of its IDAT as CORRUPT_IMAGE', async () => {
    const png = await sharp({
      create: {
        width: 512,
        height: 512,
        channels: 4,
        background: 'black',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    const idat = firstIdat(png);
    const path = destination();
    const cut = png.subarray(0, idat.start + 8 + Math.floor(idat.length / 2));
    await expectProblem(await spoolAndInspectPng(streamOf(cut), path), 'CORRUPT_IMAGE', path);
  });

  it('refuses a stream that ends inside the IHDR as CORRUPT_IMAGE', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.transparent.subarray(0, 20)), path),
      'CORRUPT_IMAGE',
      path,
    );
    expect(message).toBe('The PNG ends after 20 bytes, before its header (IHDR) is complete.');
  });

  it('refuses a stream that ends inside a matching signature as CORRUPT_IMAGE', async () => {
    const path = destination();
    await expectProblem(
      await spoolAndInspectPng(streamOf(SIGNATURE.subarray(0, 5)), path),
      'CORRUPT_IMAGE',
      path,
    );
  });

  it('refuses an empty stream as EMPTY_FILE', async () => {
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(Readable.from([]), path),
      'EMPTY_FILE',
      path,
    );
    expect(message).toBe('The file is empty (0 bytes).');
  });

  it('stops a 21 MB upload at the 20 MB limit and answers FILE_TOO_LARGE', async () => {
    const head = fixtures.transparent.subarray(0, firstIdat(fixtures.transparent).start + 8);
    const { stream, counter } = countingStream(head, 21 * 1024 * 1024);
    const path = destination();
    const message = await expectProblem(await spoolAndInspectPng(stream, path), 'FILE_TOO_LARGE', path);
    expect(message).toBe('The file is larger than the 20 MB (20971520 bytes) limit.');
    expect(counter.pulled).toBeLessThan(21 * 1024 * 1024);
    expect(stream.destroyed).toBe(true);
  });

  it('accepts a file of exactly maxBytes and refuses one byte more', async () => {
    const size = fixtures.transparent.length;
    const exact: PngLimits = { ...PICWISH_PNG_LIMITS, maxBytes: size };
    expect(
      (await spoolAndInspectPng(streamOf(fixtures.transparent), destination(), { limits: exact })).ok,
    ).toBe(true);
    const path = destination();
    const tight: PngLimits = { ...exact, maxBytes: size - 1 };
    await expectProblem(
      await spoolAndInspectPng(streamOf(fixtures.transparent), path, { limits: tight, fit: false }),
      'FILE_TOO_LARGE',
      path,
    );
  });

  it("maps graphql-upload-minimal's 413 stream error to FILE_TOO_LARGE", async () => {
    async function* upload() {
      yield fixtures.transparent.subarray(0, 1000);
      throw Object.assign(new Error('File truncated as it exceeds the 1000 byte size limit.'), {
        status: 413,
      });
    }
    const path = destination();
    await expectProblem(await spoolAndInspectPng(Readable.from(upload()), path), 'FILE_TOO_LARGE', path);
  });

  it('treats a stream that busboy marked truncated as FILE_TOO_LARGE', async () => {
    const source = Object.assign(streamOf(fixtures.transparent), { truncated: true });
    const path = destination();
    await expectProblem(await spoolAndInspectPng(source, path), 'FILE_TOO_LARGE', path);
  });

  it('reports a source stream that fails midway as an interrupted upload (CORRUPT_IMAGE)', async () => {
    async function* upload() {
      yield fixtures.transparent.subarray(0, 1000);
      throw new Error('aborted');
    }
    const path = destination();
    const message = await expectProblem(
      await spoolAndInspectPng(Readable.from(upload()), path),
      'CORRUPT_IMAGE',
      path,
    );
    expect(message).toBe(
      'The upload was interrupted after 1000 bytes, so the file is incomplete; please send it again.',
    );
  });

  it('rejects, without touching it, when the destination already exists', async () => {
    const path = destination();
    await writeFile(path, 'someone else');
    const source = streamOf(fixtures.transparent);
    await expect(spoolAndInspectPng(source, path)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('someone else');
    expect(source.destroyed).toBe(true);
    await rm(path);
  });
});

describe('checkDecodedTransparency', () => {
  it('refuses a file libvips cannot read as CORRUPT_IMAGE', async () => {
    const path = join(dir, 'garbage.png');
    await writeFile(path, Buffer.concat([SIGNATURE, ihdr(300, 300), chunk('IDAT', Buffer.from('not zlib'))]));
    expect(await checkDecodedTransparency(path)).toMatchObject({
      ok: false,
      error: { reason: 'CORRUPT_IMAGE' },
    });
  });

  it('refuses a JPEG as NOT_PNG even when called directly', async () => {
    const path = join(dir, 'photo.jpg');
    await writeFile(path, fixtures.jpeg);
    expect(await checkDecodedTransparency(path)).toMatchObject({ ok: false, error: { reason: 'NOT_PNG' } });
  });
});
