import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { paddedPng, transparentPng } from '../support/fixtures.js';
import {
  type Answer,
  badInput,
  expectRefused,
  FILE_PATH,
  generateForm,
  raw,
  refusalTest,
  upload,
} from './input-refusals.js';

/** Uploads that are not a usable PNG (not PNG, empty, corrupt, opaque, too small or large, missing) are refused before PicWish sees them. */

const it = refusalTest();

/** A PNG whose IHDR checksum is wrong: the header itself is damaged. */
function withBrokenIhdrCrc(png: Buffer): Buffer {
  const copy = Buffer.from(png);
  // Signature (8) + length (4) + "IHDR" (4) + data (13), then the CRC.
  copy.writeUInt32BE((copy.readUInt32BE(29) ^ 0xffffffff) >>> 0, 29);
  return copy;
}

describe('uploads that are not a usable PNG are refused before PicWish sees them', () => {
  const FILE = 'input.image.file';

  it('refuses text sent as the file as NOT_PNG', async ({ stack }) => {
    await expectRefused(
      stack,
      await upload(stack, Buffer.from('this is not an image at all')),
      badInput('NOT_PNG', FILE),
    );
  });

  it('refuses a JPEG as NOT_PNG', async ({ stack }) => {
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    await expectRefused(stack, await upload(stack, jpeg), badInput('NOT_PNG', FILE));
  });

  it('refuses an empty file as EMPTY_FILE', async ({ stack }) => {
    await expectRefused(stack, await upload(stack, Buffer.alloc(0)), badInput('EMPTY_FILE', FILE));
  });

  it('refuses a PNG cut short as CORRUPT_IMAGE', async ({ stack, good }) => {
    await expectRefused(
      stack,
      await upload(stack, good.subarray(0, good.length - 40)),
      badInput('CORRUPT_IMAGE', FILE),
    );
  });

  it('refuses a PNG with a damaged header checksum as CORRUPT_IMAGE', async ({ stack, good }) => {
    await expectRefused(stack, await upload(stack, withBrokenIhdrCrc(good)), badInput('CORRUPT_IMAGE', FILE));
  });

  it('refuses an RGB PNG without alpha or tRNS as NOT_TRANSPARENT', async ({ stack }) => {
    const rgb = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expectRefused(stack, await upload(stack, rgb), badInput('NOT_TRANSPARENT', FILE));
  });

  it('refuses an RGBA PNG without a single transparent pixel as NO_TRANSPARENT_PIXEL', async ({ stack }) => {
    const opaque = await sharp({
      create: { width: 300, height: 300, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 1 } },
    })
      .png()
      .toBuffer();
    await expectRefused(stack, await upload(stack, opaque), badInput('NO_TRANSPARENT_PIXEL', FILE));
  });

  it('refuses a PNG narrower than 256 px as IMAGE_TOO_SMALL', async ({ stack }) => {
    await expectRefused(
      stack,
      await upload(stack, await transparentPng(255, 300)),
      badInput('IMAGE_TOO_SMALL', FILE),
    );
  });

  it('refuses a PNG shorter than 256 px as IMAGE_TOO_SMALL', async ({ stack }) => {
    await expectRefused(
      stack,
      await upload(stack, await transparentPng(300, 100)),
      badInput('IMAGE_TOO_SMALL', FILE),
    );
  });

  it('refuses a PNG wider than 4096 px as IMAGE_TOO_LARGE when the input says fit: false', async ({
    stack,
  }) => {
    const answer = await upload(stack, await transparentPng(4097, 256), {
      image: { file: null, fit: false },
    });
    await expectRefused(stack, answer, badInput('IMAGE_TOO_LARGE', FILE));
  });

  it('refuses a PNG wider than 12000 px as IMAGE_TOO_LARGE even when fitting', async ({ stack }) => {
    await expectRefused(
      stack,
      await upload(stack, await transparentPng(12_001, 300)),
      badInput('IMAGE_TOO_LARGE', FILE),
    );
  });

  it('refuses a PNG that fitting would take under 256 px as IMAGE_TOO_SMALL', async ({ stack }) => {
    await expectRefused(
      stack,
      await upload(stack, await transparentPng(4097, 256)),
      badInput('IMAGE_TOO_SMALL', FILE),
    );
  });

  it('answers a 21 MB upload quickly with FILE_TOO_LARGE, without reading it all', async ({ stack }) => {
    // A real PNG padded with an ancillary chunk before IEND: only the size can be wrong with it
    // (bytes after IEND would be CORRUPT_IMAGE, #27).
    const big = await paddedPng(21 * 1024 * 1024);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await upload(stack, big);
    } catch (error) {
      throw new Error(`the 21 MB upload got no answer: ${String((error as Error).cause ?? error)}`);
    }
    const elapsedMs = performance.now() - started;
    console.info(`21 MB upload answered in ${Math.round(elapsedMs)} ms with HTTP ${answer.status}`);
    expect(elapsedMs).toBeLessThan(10_000);
    if (answer.status === 413) {
      await expectRefused(stack, answer, { code: 'PAYLOAD_TOO_LARGE' });
    } else {
      await expectRefused(stack, answer, badInput('FILE_TOO_LARGE', FILE));
    }
  });

  it('refuses a map that names a file which never arrives as UPLOAD_MISSING', async ({ stack }) => {
    const form = generateForm({ input: { image: { file: null }, background: { prompt: 'x' } } });
    form.set('map', JSON.stringify({ 0: [FILE_PATH] }));
    await expectRefused(
      stack,
      await raw(stack, form, { 'apollo-require-preflight': 'true' }),
      badInput('UPLOAD_MISSING', FILE),
    );
  });
});
