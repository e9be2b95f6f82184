import { describe, expect, it } from 'vitest';
import { readPngHeader } from '../../../src/images/index.js';
import {
  chunk,
  firstIdat,
  fixtures,
  ihdr,
  SIGNATURE,
  TRANSPARENT_HEADER,
  usePngSamples,
} from './png-samples.js';

/** readPngHeader: size, colour type and alpha from the first chunks, and which headers are not PNG or are corrupt. */

usePngSamples();

describe('readPngHeader', () => {
  it('reads size, colour type and alpha from an RGBA PNG', () => {
    expect(readPngHeader(fixtures.transparent)).toEqual({ ok: true, value: TRANSPARENT_HEADER });
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
