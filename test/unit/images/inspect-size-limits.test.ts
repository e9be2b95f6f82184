import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  PICWISH_PNG_LIMITS,
  type PngLimits,
  spoolAndInspectPng,
  spoolPng,
} from '../../../src/images/index.js';
import {
  chunk,
  countingStream,
  destination,
  expectProblem,
  firstIdat,
  fixtures,
  ihdr,
  SIGNATURE,
  streamOf,
  transparentPng,
  usePngSamples,
} from './png-samples.js';

/** Size limits: spoolAndInspectPng holds pixel sizes and the byte limit, refusing too large an upload without reading it all. */

usePngSamples();

describe('spoolAndInspectPng', () => {
  it('accepts both limits exactly: 256×256 and 4096×4096', async () => {
    for (const side of [256, 4096]) {
      const result = await spoolAndInspectPng(streamOf(await transparentPng(side, side)), destination());
      expect(result).toMatchObject({ ok: true, value: { width: side, height: side } });
    }
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
});
