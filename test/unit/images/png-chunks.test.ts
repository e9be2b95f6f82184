import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PngChunkWalker } from '../../../src/images/png-chunks.js';
import { misbuiltPngs, transparentPng } from '../../support/fixtures.js';

/** The walker's verdict on `bytes` fed in the given pieces. */
function walk(bytes: Buffer, cuts: number[] = []) {
  const walker = new PngChunkWalker();
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    const found = walker.push(bytes.subarray(from, cut));
    if (found) return found;
    from = cut;
  }
  return walker.finish();
}

describe('PngChunkWalker', () => {
  it('accepts a well-built PNG, however its bytes are split', async () => {
    const good = await transparentPng(300, 300);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: good.length }), { maxLength: 8 }), (cuts) => {
        expect(walk(good, cuts)).toBeUndefined();
      }),
    );
  });

  it('refuses bytes after IEND, an IHDR after the image data, an animated PNG and a missing IEND', async () => {
    const bad = await misbuiltPngs();
    expect(walk(bad.afterIend)).toMatchObject({
      reason: 'CORRUPT_IMAGE',
      message: expect.stringContaining('after its IEND'),
    });
    expect(walk(bad.ihdrAfterIdat)).toMatchObject({
      reason: 'CORRUPT_IMAGE',
      message: expect.stringContaining('IHDR'),
    });
    expect(walk(bad.apng)).toMatchObject({
      reason: 'UNSUPPORTED_IMAGE_FORMAT',
      message: expect.stringContaining('APNG'),
    });
    const good = await transparentPng(300, 300);
    expect(walk(good.subarray(0, good.length - 1))).toMatchObject({
      message: expect.stringContaining('IEND'),
    });
  });

  it('finds a single byte after IEND whichever piece it arrives in', async () => {
    const good = await transparentPng(300, 300);
    const trailing = Buffer.concat([good, Buffer.of(0)]);
    for (const cut of [good.length - 12, good.length - 1, good.length]) {
      expect(walk(trailing, [cut])?.message).toContain('after its IEND');
    }
  });
});
