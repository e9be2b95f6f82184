import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDecodedTransparency,
  REMOVE_BACKGROUND_HINT,
  spoolAndInspectPng,
} from '../../../src/images/index.js';
import {
  chunk,
  destination,
  dir,
  expectProblem,
  fixtures,
  handmadePng,
  ihdr,
  RGBA16,
  rgbPngWithColourKey,
  SIGNATURE,
  streamOf,
  TRANSPARENT_HEADER,
  usePngSamples,
} from './png-samples.js';

/** Transparency: spoolAndInspectPng accepts PNGs with a transparent pixel in any format and refuses those without one. */

usePngSamples();

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
        ...TRANSPARENT_HEADER,
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
