import { readFile, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { REMOVE_BACKGROUND_HINT, spoolAndInspectPng } from '../../../src/images/index.js';
import {
  countingStream,
  destination,
  expectProblem,
  firstIdat,
  fixtures,
  SIGNATURE,
  streamOf,
  usePngSamples,
} from './png-samples.js';

/** Stream failures: spoolAndInspectPng refuses non-PNG, cut, empty and interrupted streams, and never overwrites a destination. */

usePngSamples();

describe('spoolAndInspectPng', () => {
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
